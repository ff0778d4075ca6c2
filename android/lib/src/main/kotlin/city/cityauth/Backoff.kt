package city.cityauth

import kotlin.random.Random

/**
 * Capped exponential backoff with jitter, for retrying a call that failed on the network:
 * the step starts at [initialMillis], doubles after each failure up to [maxMillis], and goes
 * back to [initialMillis] on [reset] (after a success). Each delay is drawn from the upper
 * half of the step ("equal jitter"), so that many phones cut off together (a server restart)
 * do not all come back in the same instant, yet none retries much sooner than the step.
 * [random] makes the draws reproducible in tests (`Random(seed)`). Not thread-safe: one per
 * retry loop.
 */
class Backoff(
    /** The first step, in milliseconds. */
    val initialMillis: Long = 1_000,
    /** The largest step, in milliseconds. */
    val maxMillis: Long = 60_000,
    private val random: Random = Random.Default,
) {
    init {
        require(initialMillis in 1..maxMillis) { "need 0 < initialMillis <= maxMillis" }
    }

    private var step = initialMillis

    /** The delay before the next retry, in [step / 2, step]; the step then doubles (capped). */
    fun nextDelayMillis(): Long {
        val current = step
        step = if (step >= maxMillis / 2) maxMillis else step * 2
        val half = current / 2
        return current - half + random.nextLong(half + 1)
    }

    /** Back to the first step: the call succeeded. */
    fun reset() {
        step = initialMillis
    }
}
