package city.cityauth

import city.cityauth.ffi.CityAuthException
import java.io.File
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/** [ImportFormat] against the native importer: the same set of formats, each detected and each forced. */
class ImportFormatTest {
    private val fixtures = File(System.getProperty("user.dir")).resolve("../../transfer/tests/fixtures").canonicalFile

    /** One real export per format (transfer/tests/fixtures), plain where the format has a plain form. */
    private val plainFixture = mapOf(
        ImportFormat.OTPAUTH_LINKS to "plain.txt",
        ImportFormat.AEGIS to "aegis_plain.json",
        ImportFormat.TWO_FAS to "2fas_authenticator_plain_v4.2fas",
        ImportFormat.AND_OTP to "andotp_plain.json",
        ImportFormat.BITWARDEN_JSON to "bitwarden.json",
        ImportFormat.BITWARDEN_CSV to "bitwarden.csv",
        ImportFormat.FREE_OTP_PLUS to "freeotp_plus.json",
        ImportFormat.PROTON to "proton_authenticator.json",
    )

    @Test
    fun `the enum lists exactly the formats the native importer knows`() = runBlocking<Unit> {
        CityAuthVault.create(newVaultPath(), "test passphrase".toCharArray(), CHEAP_KDF).use { vault ->
            // The native refusal of an unknown name lists every known one.
            val refused = assertThrows<CityAuthException.InvalidInput> {
                vault.vault.previewImport("x".encodeToByteArray(), "no-such-format", null)
            }
            assertEquals("format", refused.field)
            val known = refused.detail.substringAfter("known: ").split(", ").toSet()
            assertEquals(known, ImportFormat.entries.map { it.coreName }.toSet())
            assertNull(ImportFormat.fromCoreName("no-such-format"))
        }
    }

    @Test
    fun `each format is detected when none is given, and read when it is given`() = runBlocking<Unit> {
        CityAuthVault.create(newVaultPath(), "test passphrase".toCharArray(), CHEAP_KDF).use { vault ->
            for ((format, name) in plainFixture) {
                val bytes = fixtures.resolve(name).readBytes()
                vault.previewImport(bytes).use { assertEquals(format, it.format, name) }
                vault.previewImport(bytes, format).use {
                    assertEquals(format, it.format, name)
                    assertEquals(true, it.report.toAdd.isNotEmpty(), name)
                }
            }
            val backup = vault.backup("backup words".toCharArray())
            vault.previewImport(backup, password = "backup words".toCharArray()).use {
                assertEquals(ImportFormat.CITYAUTH_BACKUP, it.format)
            }
            // A format forced on a file of another one is a typed error, not a guess.
            val aegis = fixtures.resolve("aegis_plain.json").readBytes()
            assertThrows<CityAuthException> { runBlocking { vault.previewImport(aegis, ImportFormat.BITWARDEN_CSV) } }
        }
    }
}
