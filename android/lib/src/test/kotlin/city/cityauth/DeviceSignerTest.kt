package city.cityauth

import city.cityauth.ffi.CityAuthException
import city.cityauth.ffi.HostDeviceSigner
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import java.util.concurrent.atomic.AtomicInteger

/**
 * The hardware-key path on the JVM: a JCA `EC` P-256 key ([JcaDeviceSigner], signing with
 * `SHA256withECDSA` as the Android Keystore does) enrolls the phone and approves a password
 * reset against the real `cityauth-server` binary; the vault keeps only the key's name.
 */
class DeviceSignerTest : WithCityServer() {
    /** Counts the signatures the core asks for, so the test sees the key store was used. */
    private class Counting(private val inner: HostDeviceSigner) : HostDeviceSigner by inner {
        val signatures = AtomicInteger()

        override fun sign(message: ByteArray): ByteArray {
            signatures.incrementAndGet()
            return inner.sign(message)
        }
    }

    @Test
    fun `a JCA P-256 key enrolls the phone and approves a password reset`() = runBlocking<Unit> {
        city.addEmployee("hana", "Hana Example")
        val link = city.enrollmentLink("hana")
        val signer = Counting(JcaDeviceSigner.generate("cityauth-device-key"))
        CityAuthVault.create(newVaultPath(), "phone passphrase".toCharArray(), CHEAP_KDF).use { vault ->
            CityAuthApprovals(vault, signer = signer).use { approvals ->
                assertEquals("hana", approvals.enroll(link, "JUnit phone").username)
                assertTrue(vault.vault.enrollment()!!.platformKey, "the key is the host's")
                val afterEnrollment = signer.signatures.get()
                assertTrue(afterEnrollment >= 1, "the proof of possession was signed by the host key")

                val (reset, number) = city.startReset("hana")
                val challenge = approvals.pending(waitSeconds = 5).single()
                assertEquals("approved", approvals.approve(challenge.id, number))
                assertEquals("verified", city.resetState(reset))
                assertTrue(signer.signatures.get() >= afterEnrollment + 2, "poll and answer signed by the host key")
            }
            // The same vault without its signer: a typed error, not a request signed otherwise.
            CityAuthApprovals(vault).use { approvals ->
                assertThrows<CityAuthException.KeyStore> { runBlocking { approvals.pending() } }
            }
            // Another key under the same name (the Keystore entry was replaced): refused too.
            CityAuthApprovals(vault, signer = JcaDeviceSigner.generate("cityauth-device-key")).use { approvals ->
                assertThrows<CityAuthException.KeyStore> { runBlocking { approvals.pending() } }
            }
        }
    }
}
