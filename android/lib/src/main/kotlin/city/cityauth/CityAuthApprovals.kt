package city.cityauth

import city.cityauth.ffi.Answer
import city.cityauth.ffi.Approvals
import city.cityauth.ffi.Challenge
import city.cityauth.ffi.CityAuthException
import city.cityauth.ffi.Enrolled
import city.cityauth.ffi.HostDeviceSigner
import city.cityauth.ffi.HostHttpTransport
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.async
import kotlinx.coroutines.cancel
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.flow
import kotlinx.coroutines.withContext

/**
 * The City account on this device with suspend functions: every call waits on the network
 * and runs on [dispatcher] ([Dispatchers.IO] unless given). Throws `CityAuthException`.
 * Requests go through [transport] (e.g. [UrlConnectionTransport]) when given, else through
 * the core's built-in HTTPS client. With a [signer] (e.g. [JcaDeviceSigner] over an Android
 * Keystore key), a new enrollment registers the signer's hardware key and every signed request
 * and answer is signed by it; an enrollment made earlier with the vault's own key keeps that
 * key until the phone is registered again. A missing or replaced signer is
 * `CityAuthException.KeyStore`.
 *
 * Cancellation: every call here is a blocking native call (the network, and for [pending] and
 * [pendingRequests] a long poll of up to 25 s) that a coroutine cannot interrupt. [enroll],
 * [approve], [deny] and [unenroll] run it with `withContext(dispatcher)`: cancelling the
 * caller takes effect when the native call returns (at most the transport's timeout), so an
 * answer is never left half known. [pending] and [pendingRequests] only read, so a cancelled
 * poll is abandoned at once instead: the caller resumes with `CancellationException`
 * immediately, and the native call finishes on its own on [dispatcher] when the server ends
 * the long poll (at most `waitSeconds` later), its result dropped and its thread back in the
 * pool. It leaves nothing behind on the server (listing requests changes none of them); at
 * most it stores the server's clock offset it learned, as any poll does.
 */
class CityAuthApprovals(
    vault: CityAuthVault,
    transport: HostHttpTransport? = null,
    private val dispatcher: CoroutineDispatcher = Dispatchers.IO,
    signer: HostDeviceSigner? = null,
) : AutoCloseable {
    /** The generated binding. */
    val approvals: Approvals =
        when {
            signer != null -> Approvals.withDeviceSigner(vault.vault, transport, signer)
            transport == null -> Approvals(vault.vault)
            else -> Approvals.withTransport(vault.vault, transport)
        }

    private suspend fun <T> io(block: () -> T): T = withContext(dispatcher) { block() }

    /** Where abandoned polls finish (see the class documentation); not a child of any caller. */
    private val detached = CoroutineScope(SupervisorJob() + dispatcher)

    /** A read-only native call that a cancelled caller leaves at once, to end on its own. */
    private suspend fun <T> abandonable(block: () -> T): T = detached.async { block() }.await()

    /** Enrolls this device from the portal's `cityauth://enroll` link (QR code). */
    suspend fun enroll(link: String, deviceName: String, platform: String = "android", pushToken: String? = null): Enrolled =
        io { approvals.enroll(link, deviceName, platform, pushToken) }

    /**
     * The verified pending requests; waits up to [waitSeconds] (at most 25) for one. Cancelling
     * the caller returns at once; the poll in progress ends by itself (class documentation).
     */
    suspend fun pending(waitSeconds: Long = 0): List<Challenge> =
        abandonable { approvals.pending(waitSeconds.coerceAtLeast(0).toULong()) }

    /**
     * Each new pending request, once, for as long as this cold flow is collected: it long-polls
     * the server ([pending] with [waitSeconds]) and emits every verified request it has not
     * emitted yet. A request still pending (not yet answered) is not emitted again, and while
     * nothing new comes, polls are at least [minIntervalMillis] apart (the server answers at once
     * while a request is pending).
     *
     * Network trouble ([CityAuthException.Network], [CityAuthException.Busy], a server error 5xx
     * or 429) is retried after a delay from [backoff] (a fresh [Backoff] per collection: 1 s
     * doubling to 60 s with jitter, reset by a successful poll); the collector sees nothing of
     * it. Any other error ends the flow with it: [CityAuthException.NotEnrolled],
     * [CityAuthException.KeyStore] (the device key is missing or not the enrolled one),
     * [CityAuthException.Locked], [CityAuthException.ServerUntrusted], a 4xx refusal.
     * Cancelling the collector ends it at once, also mid-poll (class documentation).
     */
    fun pendingRequests(
        waitSeconds: Long = 25,
        minIntervalMillis: Long = 2_000,
        backoff: () -> Backoff = { Backoff() },
    ): Flow<Challenge> = flow {
        val retry = backoff()
        val emitted = HashSet<String>()
        while (true) {
            val started = System.nanoTime()
            val list = try {
                pending(waitSeconds)
            } catch (e: CityAuthException) {
                if (!retryable(e)) throw e
                delay(retry.nextDelayMillis())
                continue
            }
            retry.reset()
            var fresh = false
            for (challenge in list) {
                if (emitted.add(challenge.id)) {
                    fresh = true
                    emit(challenge)
                }
            }
            // Forget what is no longer pending, so the set stays as small as the list.
            emitted.retainAll(list.map { it.id }.toSet())
            if (!fresh) delay(minIntervalMillis - (System.nanoTime() - started) / 1_000_000)
        }
    }

    /** Approves [challengeId] with the [number] shown in the browser; returns the outcome. */
    suspend fun approve(challengeId: String, number: String?): String = io { approvals.answer(challengeId, Answer.APPROVE, number) }

    /** Denies [challengeId]; with [fraud], reports that it was not the employee. */
    suspend fun deny(challengeId: String, fraud: Boolean = false): String =
        io { approvals.answer(challengeId, if (fraud) Answer.FRAUD else Answer.DENY, null) }

    /** Removes this device from the City account. */
    suspend fun unenroll() = io { approvals.unenroll() }

    /** Releases the native object once no call is in progress (an abandoned poll finishes first). */
    override fun close() {
        detached.cancel()
        approvals.close()
    }
}

/** Whether [error] is a passing network condition that a later poll may not meet. */
internal fun retryable(error: CityAuthException): Boolean = when (error) {
    is CityAuthException.Network, is CityAuthException.Busy -> true
    is CityAuthException.ServerRefused -> error.status.toInt() >= 500 || error.status.toInt() == 429
    else -> false
}
