package city.cityauth

import city.cityauth.ffi.CityAuthException
import city.cityauth.ffi.HashAlgorithm
import city.cityauth.ffi.NewAccount
import city.cityauth.ffi.OtpKind
import city.cityauth.ffi.Vault
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

class VaultTest {
    @Test
    fun `accounts added from links give the RFC 6238 codes`() = runBlocking<Unit> {
        CityAuthVault.create(newVaultPath(), "correct horse".toCharArray(), CHEAP_KDF).use { vault ->
            val sha1 = vault.addFromLink("otpauth://totp/RFC:sha1?secret=${Rfc6238.SHA1}&digits=8")
            val sha256 = vault.addFromLink("otpauth://totp/RFC:sha256?secret=${Rfc6238.SHA256}&digits=8&algorithm=SHA256")
            val sha512 = vault.addFromLink("otpauth://totp/RFC:sha512?secret=${Rfc6238.SHA512}&digits=8&algorithm=SHA512")
            // RFC 6238 appendix B: T = 59 and T = 1111111109.
            val at59 = vault.vault.codesAt(59u).associate { it.accountId to it.code }
            assertEquals(mapOf(sha1 to "94287082", sha256 to "46119246", sha512 to "90693936"), at59)
            val later = vault.vault.codesAt(1111111109u).associate { it.accountId to it.code }
            assertEquals(mapOf(sha1 to "07081804", sha256 to "68084774", sha512 to "25091201"), later)
            assertEquals(1uL, vault.vault.codesAt(59u).first().remaining)

            val listed = vault.accounts()
            assertEquals(listOf("sha1", "sha256", "sha512"), listed.map { it.name })
            assertEquals(HashAlgorithm.SHA512, listed[2].algorithm)
            assertEquals(8.toUByte(), listed[0].digits)
        }
    }

    @Test
    fun `the HOTP counter persists across reopening the vault`() = runBlocking<Unit> {
        val path = newVaultPath()
        val id = CityAuthVault.create(path, "pass phrase".toCharArray(), CHEAP_KDF).use { vault ->
            val id = vault.addFromLink("otpauth://hotp/Bank:me?secret=${Rfc6238.SHA1}&counter=0")
            // RFC 4226 appendix D, counters 0 and 1.
            assertEquals("755224", vault.nextHotp(id))
            assertEquals("287082", vault.nextHotp(id))
            id
        }
        CityAuthVault.open(path).use { vault ->
            assertFalse(vault.isUnlocked)
            vault.unlock("pass phrase".toCharArray())
            assertEquals(2uL, vault.accounts().single().counter)
            assertEquals("359152", vault.nextHotp(id))
            // HOTP accounts have no time-based code.
            assertTrue(vault.codes().isEmpty())
        }
    }

    @Test
    fun `a wrong passphrase is a Kotlin exception with its message`() = runBlocking<Unit> {
        val path = newVaultPath()
        CityAuthVault.create(path, "the right passphrase".toCharArray(), CHEAP_KDF).use { it.addFromLink("otpauth://totp/A:b?secret=JBSWY3DPEHPK3PXP") }
        CityAuthVault.open(path).use { vault ->
            val error = assertThrows<CityAuthException.WrongPassphrase> { runBlocking { vault.unlock("wrong one".toCharArray()) } }
            assertEquals("wrong passphrase", error.detail)
            assertEquals("wrong passphrase", error.toString())
            assertEquals("detail=wrong passphrase", error.message)  // uniffi's field dump
            assertFalse(vault.isUnlocked)
            assertThrows<CityAuthException.Locked> { runBlocking { vault.accounts() } }
            vault.unlock("the right passphrase".toCharArray())
            assertEquals(1, vault.accounts().size)
        }
    }

    @Test
    fun `an invalid link names the field at fault and never the secret`() = runBlocking<Unit> {
        CityAuthVault.create(newVaultPath(), "test passphrase".toCharArray(), CHEAP_KDF).use { vault ->
            val bad = assertThrows<CityAuthException.InvalidLink> {
                runBlocking { vault.addFromLink("otpauth://totp/A:b?secret=NOT*BASE32SECRET") }
            }
            assertEquals("secret", bad.field)
            assertFalse(bad.detail.contains("NOT*BASE32SECRET"))
            val digits = assertThrows<CityAuthException.InvalidLink> {
                runBlocking { vault.addFromLink("otpauth://totp/A:b?secret=JBSWY3DP&digits=12") }
            }
            assertEquals("digits", digits.field)
            assertTrue(vault.accounts().isEmpty())
        }
    }

    @Test
    fun `accounts typed in are renamed, reordered and removed`() = runBlocking<Unit> {
        CityAuthVault.create(newVaultPath(), "test passphrase".toCharArray(), CHEAP_KDF).use { vault ->
            val steam = vault.addAccount(
                NewAccount("Steam", "gamer", "JBSWY3DPEHPK3PXP", OtpKind.STEAM, HashAlgorithm.SHA1, 5u, 30u, 0uL),
            )
            val mail = vault.addAccount(
                NewAccount("Mail", "me", Rfc6238.SHA1, OtpKind.TOTP, HashAlgorithm.SHA1, 8u, 30u, 0uL),
            )
            val bad = assertThrows<CityAuthException.InvalidInput> {
                runBlocking { vault.addAccount(NewAccount("X", "y", Rfc6238.SHA1, OtpKind.TOTP, HashAlgorithm.SHA1, 9u, 30u, 0uL)) }
            }
            assertEquals("digits", bad.field)

            vault.rename(mail, "Post", "me@city.example")
            vault.move(mail, 0)
            assertEquals(listOf(mail, steam), vault.accounts().map { it.accountId })
            assertEquals("Post", vault.accounts().first().issuer)
            val codes = vault.vault.codesAt(59u)
            assertEquals("94287082", codes.first { it.accountId == mail }.code)
            assertEquals(5, codes.first { it.accountId == steam }.code.length)

            vault.remove(steam)
            assertEquals(listOf(mail), vault.accounts().map { it.accountId })
            assertThrows<CityAuthException.UnknownAccount> { runBlocking { vault.remove(steam) } }
        }
    }

    @Test
    fun `creating over an existing file and opening a missing one are refused`() {
        val path = newVaultPath()
        Vault.create(path, "test passphrase", CHEAP_KDF).close()
        assertThrows<CityAuthException.AlreadyExists> { Vault.create(path, "test passphrase", CHEAP_KDF) }
        assertThrows<CityAuthException.NotFound> { Vault.open("$path-missing") }
    }
}
