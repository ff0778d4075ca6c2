package city.cityauth

import city.cityauth.ffi.CityAuthException
import kotlin.random.Random
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/** [Backoff]'s schedule (1 s doubling to 60 s, jitter in the upper half, reset) and which errors are retried. */
class BackoffTest {
    @Test
    fun `delays double from 1 s to a 60 s cap with jitter in the upper half, and reset`() {
        val steps = listOf(1_000L, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000)
        val backoff = Backoff(random = Random(7))
        val drawn = steps.map { step ->
            backoff.nextDelayMillis().also { assertTrue(it in step / 2..step, "$it outside [${step / 2}, $step]") }
        }
        assertTrue(drawn.toSet().size > 1, "no jitter: $drawn")
        backoff.reset()
        assertTrue(backoff.nextDelayMillis() in 500L..1_000L, "reset did not go back to the first step")
        // The same seed gives the same schedule: tests can rely on it.
        val again = Backoff(random = Random(7))
        assertEquals(drawn, steps.map { again.nextDelayMillis() })
        assertThrows<IllegalArgumentException> { Backoff(initialMillis = 0) }
    }

    @Test
    fun `network trouble is retried, everything else is not`() {
        assertTrue(retryable(CityAuthException.Network("down")))
        assertTrue(retryable(CityAuthException.Busy("busy")))
        assertTrue(retryable(CityAuthException.ServerRefused(503u, "unavailable", "down")))
        assertTrue(retryable(CityAuthException.ServerRefused(429u, "rate_limited", "slow down")))
        assertFalse(retryable(CityAuthException.ServerRefused(401u, "unauthorized", "no")))
        assertFalse(retryable(CityAuthException.NotEnrolled("not enrolled")))
        assertFalse(retryable(CityAuthException.KeyStore("gone")))
        assertFalse(retryable(CityAuthException.ServerUntrusted("bad signature")))
    }
}
