package city.cityauth

import java.io.File
import java.net.HttpURLConnection
import java.net.ServerSocket
import java.net.Socket
import java.net.URI
import java.nio.file.Files
import java.util.concurrent.TimeUnit

/**
 * The real `cityauth-server` binary on loopback with a temporary database, driven as an
 * administrator would (its admin commands) and as a browser would (its JSON API).
 */
class CityServer : AutoCloseable {
    companion object {
        /** A password that passes the server's policy. */
        const val PASSWORD = "violet-harbour-93-lantern"
    }

    private val binary = File(
        System.getProperty("cityauth.server.binary")
            ?: error("set -Dcityauth.server.binary to target/debug/cityauth-server"),
    )
    private val dir = Files.createTempDirectory("cityauth-server-test").toFile()
    private val db = File(dir, "city.sqlite")
    private val port = ServerSocket(0).use { it.localPort }

    /** The base URL devices and the browser use. */
    val url = "http://127.0.0.1:$port"
    private var process: Process

    init {
        require(binary.canExecute()) { "build the server first: cargo build -p cityauth-server ($binary)" }
        process = launch()
        waitUntilListening()
    }

    private fun launch(): Process =
        ProcessBuilder(binary.path, "--db", db.path, "--public-url", url, "serve", "--listen", "127.0.0.1:$port")
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(File(dir, "server.log")))
            .start()

    /** Kills the server (SIGKILL, no goodbye to open connections) and waits until it is gone. */
    fun kill() {
        process.destroyForcibly()
        check(process.waitFor(10, TimeUnit.SECONDS)) { "the server did not die" }
    }

    /** Whether the server process runs (false after [kill] until [restart]). */
    val isAlive: Boolean get() = process.isAlive

    /** Starts the server again on the same port and database, after [kill]. */
    fun restart() {
        check(!process.isAlive) { "kill it first" }
        process = launch()
        waitUntilListening()
    }

    private fun waitUntilListening() {
        val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20)
        while (System.nanoTime() < deadline) {
            check(process.isAlive) { "the server exited: " + File(dir, "server.log").readText() }
            try {
                Socket("127.0.0.1", port).close()
                return
            } catch (_: java.io.IOException) {
                Thread.sleep(50)
            }
        }
        error("the server did not listen on $port")
    }

    /** Runs an admin command against the database; returns its standard output. */
    fun admin(args: List<String>, stdin: String = ""): String {
        val command = listOf(binary.path, "--db", db.path) + args
        val admin = ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.PIPE).start()
        admin.outputStream.use { it.write(stdin.toByteArray()) }
        val out = admin.inputStream.bufferedReader().readText()
        val err = admin.errorStream.bufferedReader().readText()
        check(admin.waitFor(30, TimeUnit.SECONDS)) { "admin command hung: $args" }
        check(admin.exitValue() == 0) { "admin $args failed: $err" }
        return out
    }

    /** `user add`: an employee with [PASSWORD]. */
    fun addEmployee(username: String, displayName: String) {
        admin(listOf("user", "add", username, "--display-name", displayName), stdin = "$PASSWORD\n")
    }

    /** `enroll-link`: the link the Security info page shows as a QR code. */
    fun enrollmentLink(username: String): String =
        admin(listOf("--public-url", url, "enroll-link", username)).lines().last { it.startsWith("cityauth://") }

    /** Sends a JSON request as the browser; returns status and body. */
    fun request(method: String, path: String, json: String? = null): Pair<Int, String> {
        val connection = URI("$url$path").toURL().openConnection() as HttpURLConnection
        connection.requestMethod = method
        if (json != null) {
            connection.doOutput = true
            connection.setRequestProperty("content-type", "application/json")
            connection.outputStream.use { it.write(json.toByteArray()) }
        }
        val status = connection.responseCode
        val stream = if (status < 400) connection.inputStream else connection.errorStream
        return status to (stream?.bufferedReader()?.readText() ?: "")
    }

    /** Starts a password reset as the "Forgot my password" page does; returns (reset id, number). */
    fun startReset(username: String): Pair<String, String> {
        val (status, body) = request("POST", "/api/v1/reset/start", """{"username":"$username"}""")
        check(status == 200) { "reset start: $status $body" }
        return jsonString(body, "reset_id") to jsonString(body, "number")
    }

    /** A reset's state: `pending`, `verified`, `denied`, ... */
    fun resetState(resetId: String): String = jsonString(request("GET", "/api/v1/reset/$resetId").second, "state")

    private fun jsonString(body: String, key: String): String =
        Regex("\"$key\"\\s*:\\s*\"([^\"]*)\"").find(body)?.groupValues?.get(1) ?: error("no $key in $body")

    override fun close() {
        process.destroy()
        process.waitFor(10, TimeUnit.SECONDS)
        dir.deleteRecursively()
    }
}
