package city.cityauth

import city.cityauth.ffi.CityAuthException
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/** [AccountId] round trips: the id an add returns is the one listed, coded, renamed, drawn and removed. */
class AccountIdTest {
    @Test
    fun `the id an add returns names that account in every call`() = runBlocking<Unit> {
        CityAuthVault.create(newVaultPath(), "test passphrase".toCharArray(), CHEAP_KDF).use { vault ->
            val totp: AccountId = vault.addFromLink("otpauth://totp/Mail:me?secret=${Rfc6238.SHA1}&digits=8")
            val hotp: AccountId = vault.addFromLink("otpauth://hotp/Bank:me?secret=${Rfc6238.SHA1}&counter=0")
            assertNotEquals(totp, hotp)
            assertEquals(listOf(totp, hotp), vault.accounts().map { it.accountId })
            assertEquals(listOf(totp), vault.codes().map { it.accountId })
            assertEquals("755224", vault.nextHotp(hotp))  // RFC 4226, counter 0: the HOTP account's code
            vault.rename(totp, "Post", "me@city.example")
            assertEquals("Post", vault.accounts().single { it.accountId == totp }.issuer)
            vault.move(hotp, 0)
            assertEquals(listOf(hotp, totp), vault.accounts().map { it.accountId })
            // The wrong kind is named by the same id.
            val kind = assertThrows<CityAuthException.WrongAccountKind> { runBlocking { vault.nextHotp(totp) } }
            assertEquals(totp.value, kind.id)

            vault.remove(hotp)
            val gone = assertThrows<CityAuthException.UnknownAccount> { runBlocking { vault.remove(hotp) } }
            assertEquals(hotp, AccountId(gone.id))
            assertEquals(listOf(totp), vault.accounts().map { it.accountId })

            // An import's commit returns the new accounts' ids, and a repeat names the existing one.
            val links = "otpauth://totp/Chat:me?secret=JBSWY3DPEHPK3PXP\notpauth://totp/Mail:me?secret=${Rfc6238.SHA1}&digits=8"
            val added = vault.previewImport(links.encodeToByteArray()).use { preview ->
                assertEquals(listOf(totp), preview.report.duplicates.map { it.existingAccountId })
                preview.commit()
            }
            assertEquals(listOf(totp) + added, vault.accounts().map { it.accountId })
            assertEquals("1", AccountId(1).toString())
        }
    }
}
