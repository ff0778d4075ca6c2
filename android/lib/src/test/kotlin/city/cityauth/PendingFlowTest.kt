package city.cityauth

import city.cityauth.ffi.ChallengeKind
import city.cityauth.ffi.CityAuthException
import city.cityauth.ffi.HostHttpRequest
import city.cityauth.ffi.HostHttpResponse
import city.cityauth.ffi.HostHttpTransport
import java.util.concurrent.atomic.AtomicInteger
import kotlin.random.Random
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import kotlinx.coroutines.withTimeoutOrNull
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/**
 * [CityAuthApprovals.pendingRequests] and [CityAuthApprovals.pending] against the real
 * `cityauth-server` binary: requests show up in the flow, the flow rides out the server being
 * killed and started again, cancellation ends the collector mid-poll, and a non-retryable
 * error ends the flow typed.
 */
class PendingFlowTest : WithCityServer() {
    /** The host's HTTP stack, counting the requests in progress (a poll in flight is one). */
    private class Counting : HostHttpTransport {
        private val inner = UrlConnectionTransport()
        val inFlight = AtomicInteger()
        val failures = AtomicInteger()

        override fun send(request: HostHttpRequest): HostHttpResponse {
            inFlight.incrementAndGet()
            try {
                return inner.send(request)
            } catch (e: Exception) {
                failures.incrementAndGet()
                throw e
            } finally {
                inFlight.decrementAndGet()
            }
        }
    }

    /** A quick backoff with a fixed seed, so a test run retries on the same schedule each time. */
    private val quick = { Backoff(initialMillis = 100, maxMillis = 800, random = Random(14)) }

    @Test
    fun `a reset shows up in the flow, once, and the flow recovers from a server restart`() = runBlocking<Unit> {
        city.addEmployee("ivan", "Ivan Example")
        val transport = Counting()
        CityAuthVault.create(newVaultPath(), "phone passphrase".toCharArray(), CHEAP_KDF).use { vault ->
            CityAuthApprovals(vault, transport = transport).use { approvals ->
                approvals.enroll(city.enrollmentLink("ivan"), "JUnit phone")
                val seen = Channel<city.cityauth.ffi.Challenge>(Channel.UNLIMITED)
                val collector = launch(Dispatchers.Default) {
                    approvals.pendingRequests(waitSeconds = 5, minIntervalMillis = 200, backoff = quick).collect { seen.send(it) }
                }
                try {
                    city.startReset("ivan")
                    val first = withTimeout(10_000) { seen.receive() }
                    assertEquals(ChallengeKind.PASSWORD_RESET, first.kind)
                    assertEquals("ivan", first.account)
                    // Still pending and polled again and again: not emitted a second time.
                    delay(1_000)
                    assertNull(seen.tryReceive().getOrNull(), "a pending request was emitted twice")

                    city.kill()
                    delay(1_500)  // the flow meets refused connections and backs off
                    assertTrue(transport.failures.get() >= 1, "no poll met the dead server")
                    assertTrue(collector.isActive, "a network error ended the flow")
                    city.restart()
                    val (reset, second) = city.startReset("ivan")
                    val next = withTimeout(15_000) { seen.receive() }
                    assertNotEquals(first.id, next.id)
                    assertEquals("approved", approvals.approve(next.id, second))
                    assertEquals("verified", city.resetState(reset))
                    assertNull(seen.tryReceive().getOrNull(), "the first request came again after the restart")
                } finally {
                    collector.cancelAndJoin()
                    if (!city.isAlive) city.restart()  // for the other tests, if this one failed in between
                }
            }
        }
    }

    @Test
    fun `cancelling mid-poll ends the collector at once and the poll ends by itself`() = runBlocking<Unit> {
        city.addEmployee("judy", "Judy Example")
        val transport = Counting()
        CityAuthVault.create(newVaultPath(), "phone passphrase".toCharArray(), CHEAP_KDF).use { vault ->
            CityAuthApprovals(vault, transport = transport).use { approvals ->
                approvals.enroll(city.enrollmentLink("judy"), "JUnit phone")
                val collector = launch(Dispatchers.Default, start = CoroutineStart.UNDISPATCHED) {
                    approvals.pendingRequests(waitSeconds = 6).collect { error("nothing is pending: $it") }
                }
                // Inside the long poll: one request in flight, held by the server.
                withTimeout(5_000) { while (transport.inFlight.get() == 0) delay(20) }
                delay(500)
                assertEquals(1, transport.inFlight.get())
                val started = System.nanoTime()
                collector.cancelAndJoin()
                val millis = (System.nanoTime() - started) / 1_000_000
                assertTrue(millis < 1_000, "the collector took $millis ms to end after cancel, mid-poll")

                // The same for a plain pending() call.
                val call = launch(Dispatchers.Default) { approvals.pending(waitSeconds = 6) }
                withTimeout(5_000) { while (transport.inFlight.get() < 2) delay(20) }
                val callStarted = System.nanoTime()
                call.cancelAndJoin()
                assertTrue((System.nanoTime() - callStarted) / 1_000_000 < 1_000, "pending() did not end at once")

                // The abandoned polls end when the server ends them (6 s): nothing keeps running.
                val drained = withTimeoutOrNull(12_000) { while (transport.inFlight.get() > 0) delay(50) }
                assertTrue(drained != null, "${transport.inFlight.get()} polls still running long after their wait")
                // They left nothing behind: a new poll works and sees a new request.
                val (_, number) = city.startReset("judy")
                val challenge = withTimeout(10_000) { approvals.pendingRequests(waitSeconds = 5).first() }
                assertEquals("approved", approvals.approve(challenge.id, number))
            }
        }
    }

    @Test
    fun `not enrolled and a missing device key end the flow with the typed error`() = runBlocking<Unit> {
        CityAuthVault.create(newVaultPath(), "phone passphrase".toCharArray(), CHEAP_KDF).use { vault ->
            CityAuthApprovals(vault, transport = Counting()).use { approvals ->
                assertThrows<CityAuthException.NotEnrolled> {
                    runBlocking { withTimeout(5_000) { approvals.pendingRequests(backoff = quick).first() } }
                }
            }
        }
        city.addEmployee("kim", "Kim Example")
        CityAuthVault.create(newVaultPath(), "phone passphrase".toCharArray(), CHEAP_KDF).use { vault ->
            CityAuthApprovals(vault, signer = JcaDeviceSigner.generate("device-key")).use {
                it.enroll(city.enrollmentLink("kim"), "JUnit phone")
            }
            // The hardware key is gone (another key under its name): KeyStore, not a retry loop.
            CityAuthApprovals(vault, signer = JcaDeviceSigner.generate("device-key")).use { approvals ->
                assertThrows<CityAuthException.KeyStore> {
                    runBlocking { withTimeout(5_000) { approvals.pendingRequests(backoff = quick).first() } }
                }
            }
        }
    }
}
