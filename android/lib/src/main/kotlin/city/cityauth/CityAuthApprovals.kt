package city.cityauth

import city.cityauth.ffi.Answer
import city.cityauth.ffi.Approvals
import city.cityauth.ffi.Challenge
import city.cityauth.ffi.Enrolled
import city.cityauth.ffi.HostDeviceSigner
import city.cityauth.ffi.HostHttpTransport
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
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

    /** Enrolls this device from the portal's `cityauth://enroll` link (QR code). */
    suspend fun enroll(link: String, deviceName: String, platform: String = "android", pushToken: String? = null): Enrolled =
        io { approvals.enroll(link, deviceName, platform, pushToken) }

    /** The verified pending requests; waits up to [waitSeconds] (at most 25) for one. */
    suspend fun pending(waitSeconds: Long = 0): List<Challenge> = io { approvals.pending(waitSeconds.coerceAtLeast(0).toULong()) }

    /** Approves [challengeId] with the [number] shown in the browser; returns the outcome. */
    suspend fun approve(challengeId: String, number: String?): String = io { approvals.answer(challengeId, Answer.APPROVE, number) }

    /** Denies [challengeId]; with [fraud], reports that it was not the employee. */
    suspend fun deny(challengeId: String, fraud: Boolean = false): String =
        io { approvals.answer(challengeId, if (fraud) Answer.FRAUD else Answer.DENY, null) }

    /** Removes this device from the City account. */
    suspend fun unenroll() = io { approvals.unenroll() }

    override fun close() = approvals.close()
}
