package city.cityauth

import city.cityauth.ffi.CityAuthException
import city.cityauth.ffi.ImportCancel
import city.cityauth.ffi.OtpKind
import java.io.File
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/**
 * Import, backup and export through [CityAuthVault] against the native library, on the real
 * export files of transfer/tests/fixtures: plain.txt holds their seven accounts as links.
 */
class TransferTest {
    private val fixtures = File(System.getProperty("user.dir")).resolve("../../transfer/tests/fixtures").canonicalFile

    private fun fixture(name: String): ByteArray = fixtures.resolve(name).readBytes()

    /** A vault holding plain.txt's accounts added one link at a time: the expected result. */
    private suspend fun reference(): CityAuthVault {
        val vault = CityAuthVault.create(newVaultPath(), "reference passphrase".toCharArray(), CHEAP_KDF)
        fixture("plain.txt").decodeToString().lines().filter { it.isNotBlank() }.forEach { vault.addFromLink(it.trim()) }
        return vault
    }

    /** What a user sees of each account, in order, and its codes at one instant. */
    private suspend fun seen(vault: CityAuthVault) = vault.accounts().map {
        listOf(it.issuer, it.name, it.kind, it.algorithm, it.digits, it.period, it.counter)
    } to vault.vault.codesAt(1_700_000_000uL).map { it.code }

    @Test
    fun `an encrypted Aegis file is previewed, then committed with all seven accounts`() = runBlocking<Unit> {
        reference().use { expected ->
            CityAuthVault.create(newVaultPath(), "test passphrase".toCharArray(), CHEAP_KDF).use { vault ->
                vault.previewImport(fixture("aegis_encrypted.json"), password = "test".toCharArray()).use { preview ->
                    val report = preview.report
                    assertEquals(ImportFormat.AEGIS, preview.format)
                    assertEquals(expected.accounts().map { it.issuer to it.name }, report.toAdd.map { it.issuer to it.name })
                    assertEquals(expected.accounts().map { it.kind }, report.toAdd.map { it.kind })
                    assertTrue(report.duplicates.isEmpty() && report.rejected.isEmpty())
                    assertTrue(vault.accounts().isEmpty(), "a preview writes nothing")
                    val secrets = Regex("secret=([A-Z2-7]+)").findAll(fixture("plain.txt").decodeToString()).map { it.groupValues[1] }.toList()
                    assertEquals(7, secrets.size)
                    assertTrue(secrets.none { report.toString().contains(it) }, "the report shows no secret")

                    val ids = preview.commit()
                    assertEquals(ids, vault.accounts().map { it.accountId })
                    assertEquals(seen(expected), seen(vault))
                    assertEquals(expected.exportLinks(), vault.exportLinks())
                }
            }
        }
    }

    /** Issue 10, item 5: the host trips the native handle from another thread; the import stops. */
    @Test
    fun `an import cancelled from another thread is Cancelled and adds nothing`() = runBlocking<Unit> {
        CityAuthVault.create(newVaultPath(), "test passphrase".toCharArray(), CHEAP_KDF).use { vault ->
            ImportCancel().use { cancel ->
                Thread { cancel.cancel() }.apply { start() }.join()
                assertThrows<CityAuthException.Cancelled> {
                    vault.vault.previewImportCancellable(fixture("aegis_encrypted.json"), null, "test", cancel)
                }
            }
            assertTrue(vault.accounts().isEmpty())
            vault.previewImport(fixture("aegis_encrypted.json"), password = "test".toCharArray()).use { assertEquals(7, it.report.toAdd.size) }
        }
    }

    /** Issue 10, item 5: sixteen million CSV commas are a typed error, not an abort of the JVM. */
    @Test
    fun `a file past the import bounds is InvalidInput for the file`() = runBlocking<Unit> {
        CityAuthVault.create(newVaultPath(), "test passphrase".toCharArray(), CHEAP_KDF).use { vault ->
            val csv = "name,login_totp\n".encodeToByteArray() + ByteArray(16_000_000) { ','.code.toByte() }
            val error = assertThrows<CityAuthException.InvalidInput> { runBlocking { vault.previewImport(csv) } }
            assertEquals("file", error.field)
        }
    }

    @Test
    fun `the file's password is asked for, a wrong one is refused, the right one opens`() = runBlocking<Unit> {
        CityAuthVault.create(newVaultPath(), "test passphrase".toCharArray(), CHEAP_KDF).use { vault ->
            val file = fixture("aegis_encrypted.json")
            assertThrows<CityAuthException.PasswordRequired> { runBlocking { vault.previewImport(file) } }
            val wrong = assertThrows<CityAuthException.WrongPassword> {
                runBlocking { vault.previewImport(file, ImportFormat.AEGIS, "not-it-4417".toCharArray()) }
            }
            assertTrue(wrong.detail.isNotEmpty())
            assertFalse(wrong.detail.contains("not-it-4417"))
            vault.previewImport(file, ImportFormat.AEGIS, "test".toCharArray()).use { assertEquals(7, it.report.toAdd.size) }
        }
    }

    @Test
    fun `a second commit is refused and imports nothing more`() = runBlocking<Unit> {
        CityAuthVault.create(newVaultPath(), "test passphrase".toCharArray(), CHEAP_KDF).use { vault ->
            vault.previewImport(fixture("aegis_encrypted.json"), password = "test".toCharArray()).use { preview ->
                assertEquals(7, preview.commit().size)
                assertThrows<CityAuthException.AlreadyCommitted> { runBlocking { preview.commit() } }
            }
            assertEquals(7, vault.accounts().size)
        }
    }

    @Test
    fun `importing the same accounts again finds them all already there`() = runBlocking<Unit> {
        CityAuthVault.create(newVaultPath(), "test passphrase".toCharArray(), CHEAP_KDF).use { vault ->
            val ids = vault.previewImport(fixture("aegis_encrypted.json"), password = "test".toCharArray()).use { it.commit() }
            vault.previewImport(fixture("plain.txt")).use { again ->
                assertEquals(ImportFormat.OTPAUTH_LINKS, again.format)
                assertTrue(again.report.toAdd.isEmpty())
                assertEquals(ids, again.report.duplicates.map { it.existingAccountId })
                assertEquals(emptyList<Long>(), again.commit())
            }
            assertEquals(7, vault.accounts().size)
        }
    }

    @Test
    fun `a backup restores the same accounts into a fresh vault`() = runBlocking<Unit> {
        CityAuthVault.create(newVaultPath(), "test passphrase".toCharArray(), CHEAP_KDF).use { vault ->
            vault.previewImport(fixture("aegis_encrypted.json"), password = "test".toCharArray()).use { it.commit() }
            val hotp = vault.accounts().first { it.kind == OtpKind.HOTP }
            vault.nextHotp(hotp.accountId)
            val backup = vault.backup("backup words".toCharArray())
            assertFalse(backup.decodeToString().contains(hotp.name), "labels are encrypted too")

            CityAuthVault.create(newVaultPath(), "other passphrase".toCharArray(), CHEAP_KDF).use { fresh ->
                assertThrows<CityAuthException.WrongPassword> {
                    runBlocking { fresh.previewRestore(backup, "not the words".toCharArray()) }
                }
                fresh.previewRestore(backup, "backup words".toCharArray()).use { restore ->
                    assertEquals(ImportFormat.CITYAUTH_BACKUP, restore.format)
                    restore.commit()
                }
                assertEquals(seen(vault), seen(fresh))
                assertEquals(vault.exportLinks(), fresh.exportLinks())
            }
            assertThrows<CityAuthException.InvalidInput> { runBlocking { vault.backup("".toCharArray()) } }
        }
    }

    @Test
    fun `a Google export leaves out what Google cannot hold, and imports back`() = runBlocking<Unit> {
        CityAuthVault.create(newVaultPath(), "test passphrase".toCharArray(), CHEAP_KDF).use { vault ->
            vault.previewImport(fixture("plain.txt")).use { it.commit() }
            val export = vault.exportGoogleLinks()
            val steam = vault.accounts().single { it.kind == OtpKind.STEAM }
            assertTrue(export.refused.any { it.id == steam.id && it.reason.isNotEmpty() })
            assertTrue(export.links.isNotEmpty() && export.links.all { it.startsWith("otpauth-migration://") })

            CityAuthVault.create(newVaultPath(), "other passphrase".toCharArray(), CHEAP_KDF).use { fresh ->
                fresh.previewImport(export.links.joinToString("\n").encodeToByteArray()).use { it.commit() }
                val refusedIds = export.refused.map { it.id }.toSet()
                val kept = vault.accounts().filter { it.id !in refusedIds }.map { it.issuer to it.name }
                assertEquals(kept, fresh.accounts().map { it.issuer to it.name })
                assertEquals(7, fresh.accounts().size + export.refused.size)
            }
        }
    }
}
