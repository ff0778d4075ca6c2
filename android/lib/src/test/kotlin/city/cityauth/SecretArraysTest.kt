package city.cityauth

import city.cityauth.ffi.CityAuthException
import city.cityauth.ffi.Vault
import java.io.File
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/**
 * Passphrases and passwords as arrays: the caller's array is all zeros after every call, on
 * success, on a typed failure, and for a passphrase that is not text; and the bytes the
 * native side sees are the same as the `String` binding's (a vault made one way opens the other).
 */
class SecretArraysTest {
    private fun assertWiped(chars: CharArray) =
        assertTrue(chars.all { it == '\u0000' }, "the passphrase array was not wiped: ${chars.size} chars left")

    private fun assertWiped(bytes: ByteArray) =
        assertTrue(bytes.all { it == 0.toByte() }, "the passphrase bytes were not wiped")

    @Test
    fun `create, unlock and a wrong passphrase wipe the caller's array`() = runBlocking<Unit> {
        val path = newVaultPath()
        val created = "grüne Brücke 7".toCharArray()
        CityAuthVault.create(path, created, CHEAP_KDF).use { it.addFromLink("otpauth://totp/A:b?secret=JBSWY3DPEHPK3PXP") }
        assertWiped(created)

        CityAuthVault.open(path).use { vault ->
            val wrong = "grüne Brücke 8".toCharArray()
            assertThrows<CityAuthException.WrongPassphrase> { runBlocking { vault.unlock(wrong) } }
            assertWiped(wrong)
            assertFalse(vault.isUnlocked)

            val wrongBytes = "not it".encodeToByteArray()
            assertThrows<CityAuthException.WrongPassphrase> { runBlocking { vault.unlock(wrongBytes) } }
            assertWiped(wrongBytes)

            val right = "grüne Brücke 7".toCharArray()
            vault.unlock(right)
            assertWiped(right)
            assertEquals(1, vault.accounts().size)
        }
        // The array path hands the native side the same UTF-8 as the String binding does.
        Vault.open(path).use { it.unlockWithPassphrase("grüne Brücke 7") }
        val fromString = newVaultPath()
        Vault.create(fromString, "ñandú ☃ 𝄞 niño", CHEAP_KDF).close()
        CityAuthVault.open(fromString).use { it.unlock("ñandú ☃ 𝄞 niño".encodeToByteArray()) }
        CityAuthVault.open(fromString).use { it.unlock("ñandú ☃ 𝄞 niño".toCharArray()) }
    }

    @Test
    fun `create over an existing file throws and still wipes`() = runBlocking<Unit> {
        val path = newVaultPath()
        CityAuthVault.create(path, "first words".toCharArray(), CHEAP_KDF).close()
        val again = "second words".toCharArray()
        assertThrows<CityAuthException.AlreadyExists> { runBlocking { CityAuthVault.create(path, again, CHEAP_KDF) } }
        assertWiped(again)
        val bytes = "second words".encodeToByteArray()
        assertThrows<CityAuthException.AlreadyExists> { runBlocking { CityAuthVault.create(path, bytes, CHEAP_KDF) } }
        assertWiped(bytes)
    }

    @Test
    fun `a passphrase that is not text is InvalidInput and is wiped`() = runBlocking<Unit> {
        val lone = charArrayOf('a', '\uD800', 'b')
        val error = assertThrows<CityAuthException.InvalidInput> {
            runBlocking { CityAuthVault.create(newVaultPath(), lone, CHEAP_KDF) }
        }
        assertEquals("passphrase", error.field)
        assertWiped(lone)
        val path = newVaultPath()
        val notUtf8 = byteArrayOf(0x66, 0xff.toByte())
        val native = assertThrows<CityAuthException.InvalidInput> {
            runBlocking { CityAuthVault.create(path, notUtf8, CHEAP_KDF) }
        }
        assertEquals("passphrase", native.field)
        assertWiped(notUtf8)
        assertFalse(File(path).exists(), "nothing was created")
    }

    @Test
    fun `change passphrase takes an array, wipes it, and the old passphrase opens nothing`() = runBlocking<Unit> {
        val path = newVaultPath()
        CityAuthVault.create(path, "older words".toCharArray(), CHEAP_KDF).use { vault ->
            val next = "newer words".toCharArray()
            vault.changePassphrase(next, CHEAP_KDF)
            assertWiped(next)
            val empty = CharArray(0)
            assertThrows<CityAuthException.InvalidInput> { runBlocking { vault.changePassphrase(empty, CHEAP_KDF) } }
        }
        CityAuthVault.open(path).use { vault ->
            assertThrows<CityAuthException.WrongPassphrase> { runBlocking { vault.unlock("older words".toCharArray()) } }
            vault.unlock("newer words".toCharArray())
            val bytes = "third words".encodeToByteArray()
            vault.changePassphrase(bytes, CHEAP_KDF)
            assertWiped(bytes)
            vault.lock()
            vault.unlock("third words".toCharArray())
        }
    }

    @Test
    fun `backup and import passwords are wiped, also when the password is wrong`() = runBlocking<Unit> {
        CityAuthVault.create(newVaultPath(), "test passphrase".toCharArray(), CHEAP_KDF).use { vault ->
            vault.addFromLink("otpauth://totp/Mail:me?secret=JBSWY3DPEHPK3PXP")
            val words = "backup words".toCharArray()
            val backup = vault.backup(words)
            assertWiped(words)
            val bytes = "other words".encodeToByteArray()
            val second = vault.backup(bytes)
            assertWiped(bytes)

            CityAuthVault.create(newVaultPath(), "fresh passphrase".toCharArray(), CHEAP_KDF).use { fresh ->
                val wrong = "not the words".toCharArray()
                assertThrows<CityAuthException.WrongPassword> { runBlocking { fresh.previewRestore(backup, wrong) } }
                assertWiped(wrong)
                val right = "backup words".toCharArray()
                fresh.previewRestore(backup, right).use { assertEquals(1, it.commit().size) }
                assertWiped(right)
                val rightBytes = "other words".encodeToByteArray()
                fresh.previewImport(second, ImportFormat.CITYAUTH_BACKUP, rightBytes).use { assertEquals(1, it.report.duplicates.size) }
                assertWiped(rightBytes)
            }
        }
    }
}
