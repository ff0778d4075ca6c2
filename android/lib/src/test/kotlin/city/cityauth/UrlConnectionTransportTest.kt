package city.cityauth

import city.cityauth.ffi.HostHttpRequest
import com.sun.net.httpserver.HttpServer
import java.net.InetSocketAddress
import java.util.concurrent.atomic.AtomicInteger
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Test

/** The platform transport against a real HTTP server on loopback (the JDK's own). */
class UrlConnectionTransportTest {
    @Test
    fun `a redirect is returned as the response and never followed`() {
        val server = HttpServer.create(InetSocketAddress("127.0.0.1", 0), 0)
        val followed = AtomicInteger()
        val base = "http://127.0.0.1:${server.address.port}"
        server.createContext("/start") { exchange ->
            exchange.responseHeaders.add("Location", "$base/elsewhere")
            exchange.sendResponseHeaders(302, -1)
            exchange.close()
        }
        server.createContext("/elsewhere") { exchange ->
            followed.incrementAndGet()
            exchange.sendResponseHeaders(200, -1)
            exchange.close()
        }
        server.start()
        try {
            val request = HostHttpRequest("POST", "$base/start", emptyList(), "{}".toByteArray())
            val response = UrlConnectionTransport().send(request)
            assertEquals(302, response.status.toInt())
            assertEquals(0, followed.get(), "the redirect was followed")
        } finally {
            server.stop(0)
        }
    }
}
