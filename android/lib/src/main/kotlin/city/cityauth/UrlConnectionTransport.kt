package city.cityauth

import city.cityauth.ffi.HostHttpException
import city.cityauth.ffi.HostHttpRequest
import city.cityauth.ffi.HostHttpResponse
import city.cityauth.ffi.HostHttpTransport
import java.io.IOException
import java.net.HttpURLConnection
import java.net.URI

/**
 * Sends the core's requests through [HttpURLConnection], the HTTP stack of both Android and
 * the JVM (so the platform's proxy settings, trust store and network security config apply).
 * Redirects are not followed: a 3xx comes back to the core as the response.
 * Blocks until the whole response is read; no response is [HostHttpException.Failed].
 */
class UrlConnectionTransport(
    private val timeoutMillis: Int = 40_000,
    private val maxBodyBytes: Int = 1 shl 20,
) : HostHttpTransport {
    override fun send(request: HostHttpRequest): HostHttpResponse {
        try {
            val connection = URI(request.url).toURL().openConnection() as HttpURLConnection
            try {
                // A 3xx is the answer: a redirect could send the signed request elsewhere.
                connection.instanceFollowRedirects = false
                connection.connectTimeout = timeoutMillis
                connection.readTimeout = timeoutMillis
                connection.requestMethod = request.method
                connection.setRequestProperty("content-type", "application/json")
                for (header in request.headers) connection.setRequestProperty(header.name, header.value)
                if (request.body.isNotEmpty()) {
                    connection.doOutput = true
                    connection.outputStream.use { it.write(request.body) }
                }
                val status = connection.responseCode
                val stream = if (status < 400) connection.inputStream else connection.errorStream
                val body = stream?.use { input ->
                    val bytes = input.readNBytes(maxBodyBytes + 1)
                    if (bytes.size > maxBodyBytes) throw HostHttpException.Failed("the response is larger than $maxBodyBytes bytes")
                    bytes
                } ?: ByteArray(0)
                return HostHttpResponse(status.toUShort(), body)
            } finally {
                connection.disconnect()
            }
        } catch (e: IOException) {
            throw HostHttpException.Failed("${e.javaClass.simpleName}: ${e.message}")
        } catch (e: IllegalArgumentException) {
            throw HostHttpException.Failed("bad URL: ${e.message}")
        }
    }
}
