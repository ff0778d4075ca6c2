package city.cityauth

import city.cityauth.ffi.CityAuthException
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

class KeyWrapperTest {
    private fun aesKey(): SecretKey = KeyGenerator.getInstance("AES").apply { init(256) }.generateKey()

    @Test
    fun `a Kotlin AES-GCM key-wrapping slot unlocks the vault without the passphrase`() = runBlocking<Unit> {
        val path = newVaultPath()
        val wrapper = AesGcmKeyWrapper("device-key", aesKey())
        CityAuthVault.create(path, "passphrase".toCharArray(), CHEAP_KDF).use { vault ->
            vault.addFromLink("otpauth://totp/RFC:sha1?secret=${Rfc6238.SHA1}&digits=8")
            vault.addKeyWrapperSlot(wrapper)
            val slots = vault.slots()
            assertEquals(listOf(null, "device-key"), slots.map { it.keyId })
        }
        CityAuthVault.open(path).use { vault ->
            vault.unlock(wrapper)
            assertEquals("94287082", vault.vault.codesAt(59u).single().code)
        }
    }

    @Test
    fun `another key under the same name fails in the key store, and an unknown key has no slot`() = runBlocking<Unit> {
        val path = newVaultPath()
        CityAuthVault.create(path, "passphrase".toCharArray(), CHEAP_KDF).use { it.addKeyWrapperSlot(AesGcmKeyWrapper("device-key", aesKey())) }
        CityAuthVault.open(path).use { vault ->
            val stranger = assertThrows<CityAuthException.KeyStore> {
                runBlocking { vault.unlock(AesGcmKeyWrapper("device-key", aesKey())) }
            }
            assertTrue(stranger.detail.contains("AEADBadTagException"), stranger.detail)
            assertThrows<CityAuthException.NoMatchingSlot> {
                runBlocking { vault.unlock(AesGcmKeyWrapper("other-key", aesKey())) }
            }
            // The passphrase still opens it.
            vault.unlock("passphrase".toCharArray())
            assertTrue(vault.isUnlocked)
        }
    }

    @Test
    fun `an unexpected exception thrown by the host implementation surfaces as a key store error`() = runBlocking<Unit> {
        val path = newVaultPath()
        val good = AesGcmKeyWrapper("k", aesKey())
        CityAuthVault.create(path, "test passphrase".toCharArray(), CHEAP_KDF).use { it.addKeyWrapperSlot(good) }
        val broken = object : city.cityauth.ffi.HostKeyWrapper {
            override fun keyId() = "k"
            override fun wrap(key: ByteArray): ByteArray = throw IllegalStateException("keystore gone")
            override fun unwrap(wrapped: ByteArray): ByteArray = throw IllegalStateException("keystore gone")
        }
        CityAuthVault.open(path).use { vault ->
            val error = assertThrows<CityAuthException.KeyStore> { runBlocking { vault.unlock(broken) } }
            assertTrue(error.detail.contains("keystore gone"), error.detail)
            vault.unlock(good)
            assertTrue(vault.isUnlocked)
        }
    }
}
