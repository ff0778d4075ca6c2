package city.cityauth

import city.cityauth.ffi.AccountCode
import city.cityauth.ffi.CityAuthException
import java.io.File
import javax.crypto.KeyGenerator
import kotlinx.coroutines.flow.take
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Assumptions.assumeTrue
import org.junit.jupiter.api.Test

/** README.md's Kotlin snippet ("For mobile developers") is the marked part of this test. */
class ReadmeExampleTest {
    @Test
    fun `the README's Kotlin example runs`() = runBlocking<Unit> {
        val path = newVaultPath()
        val messages = mutableListOf<String>()
        fun show(message: String) = messages.add(message)
        var screen: List<AccountCode> = emptyList()

        // README-BEGIN
        val vault = CityAuthVault.create(path, "correct horse battery".toCharArray())  // suspend: runs on Dispatchers.IO
        val id = vault.addFromLink("otpauth://totp/GitHub:alice?secret=JBSWY3DPEHPK3PXP&issuer=GitHub")
        vault.codeUpdates().take(2).collect { codes -> screen = codes }  // a Flow: every account, once a second

        // Unlock without the passphrase through a key the platform holds (here a JVM AES key;
        // on Android an Android Keystore key works the same).
        val deviceKey = KeyGenerator.getInstance("AES").apply { init(256) }.generateKey()
        vault.addKeyWrapperSlot(AesGcmKeyWrapper("device-key", deviceKey))
        vault.lock()
        try {
            vault.unlock("not the passphrase".toCharArray())
        } catch (e: CityAuthException.WrongPassphrase) {
            show(e.detail)  // "wrong passphrase"
        }
        vault.unlock(AesGcmKeyWrapper("device-key", deviceKey))
        // README-END

        assertEquals(listOf(id), screen.map { it.accountId })
        assertEquals(6, screen.single().code.length)
        assertEquals(listOf("wrong passphrase"), messages)
        assertTrue(vault.isUnlocked)
        assertEquals(listOf("GitHub"), vault.accounts().map { it.issuer })
        vault.close()
    }

    @Test
    fun `README_md shows exactly the example above`() {
        val root = File(System.getProperty("user.dir")).resolve("../..").canonicalFile
        val source = root.resolve("android/lib/src/test/kotlin/city/cityauth/ReadmeExampleTest.kt").readText()
        val example = source.substringAfter("// README-BEGIN\n").substringBefore("        // README-END")
            .lines().joinToString("\n") { it.removePrefix("        ") }.trimEnd()
        val readme = root.resolve("README.md").readText()
        val block = readme.substringAfter("## For mobile developers", "").substringAfter("```kotlin\n", "")
            .substringBefore("```").trimEnd()
        assertEquals(example, block, "README.md's Kotlin block must be ReadmeExampleTest's README-BEGIN..END part")
    }

    @Test
    fun `README_md shows exactly the Swift example that the Swift tests run`() {
        val root = File(System.getProperty("user.dir")).resolve("../..").canonicalFile
        val swift = root.resolve("ios/CityAuth/Tests/CityAuthTests/ReadmeExampleTests.swift")
        assumeTrue(swift.exists(), "no $swift yet")
        val marked = swift.readText().substringAfter("// README-BEGIN\n").substringBefore("// README-END")
        val indent = marked.lines().filter { it.isNotBlank() }.minOf { it.length - it.trimStart().length }
        val example = marked.lines().joinToString("\n") { it.drop(indent) }.trimEnd()
        val readme = root.resolve("README.md").readText()
        val block = readme.substringAfter("## For mobile developers", "").substringAfter("```swift\n", "")
            .substringBefore("```").trimEnd()
        assertEquals(example, block, "README.md's Swift block must be ReadmeExampleTests.swift's README-BEGIN..END part")
    }
}
