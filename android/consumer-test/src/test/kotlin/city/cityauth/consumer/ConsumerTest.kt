package city.cityauth.consumer

import city.cityauth.CityAuthVault
import city.cityauth.accountId
import city.cityauth.ffi.KdfSettings
import com.sun.jna.NativeLibrary
import com.sun.jna.Platform
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import java.nio.file.Files

/** What an app developer does first with the artifact: a vault, an account, its codes. */
class ConsumerTest {
    // RFC 6238 appendix B's SHA-1 secret ("12345678901234567890"), base32.
    private val rfcSecret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    private val cheapKdf = KdfSettings(256u, 1u, 1u)

    @Test
    fun `the jar alone draws the RFC 6238 codes`() = runBlocking<Unit> {
        // Nothing points JNA at a library outside the jar.
        assertNull(System.getProperty("jna.library.path"))
        assertNull(System.getProperty("uniffi.component.cityauth.libraryOverride"))

        val dir = Files.createTempDirectory("cityauth-consumer")
        val path = dir.resolve("vault.sqlite").toString()
        val id = CityAuthVault.create(path, "consumer passphrase".toCharArray(), cheapKdf).use { vault ->
            val id = vault.addFromLink("otpauth://totp/RFC:consumer?secret=$rfcSecret&digits=8")
            assertEquals("94287082", vault.vault.codesAt(59u).single { it.accountId == id }.code)
            id
        }
        // Reopened from the file: the account was stored, the passphrase opens it.
        CityAuthVault.open(path).use { vault ->
            vault.unlock("consumer passphrase".toCharArray())
            assertEquals("07081804", vault.vault.codesAt(1111111109u).single { it.accountId == id }.code)
            assertEquals(listOf("consumer"), vault.accounts().map { it.name })
        }
        dir.toFile().deleteRecursively()

        // The library is on the class path inside the artifact's jar, at JNA's resource prefix,
        // and what JNA loaded is its copy of it (JNA names extracted copies jna<digits>.tmp,
        // and deletes the file once loaded on Linux, so only the name is left to check).
        val resource = "${Platform.RESOURCE_PREFIX}/${System.mapLibraryName("cityauth_ffi")}"
        val url = javaClass.classLoader.getResource(resource)
        assertNotNull(url, "$resource is not on the class path")
        assertEquals("jar", url!!.protocol, "$resource is not inside a jar: $url")
        assertTrue(url.path.contains("cityauth-kotlin-0.1.0.jar!"), "$resource comes from $url")
        val loaded = NativeLibrary.getInstance("cityauth_ffi").file
        assertTrue(
            loaded.name.startsWith("jna") && loaded.name.endsWith(".tmp"),
            "cityauth_ffi was loaded from $loaded, not extracted from the jar",
        )
    }
}
