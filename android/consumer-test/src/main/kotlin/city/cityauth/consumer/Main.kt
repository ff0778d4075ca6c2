package city.cityauth.consumer

import city.cityauth.AesGcmKeyWrapper
import city.cityauth.CityAuthVault
import city.cityauth.accountId
import city.cityauth.ffi.KdfSettings
import kotlinx.coroutines.runBlocking
import java.nio.file.Files
import javax.crypto.KeyGenerator
import kotlin.system.exitProcess

/**
 * The program ./run shrinks and obfuscates with ProGuard and the jar's consumer rules, as R8
 * treats a minified app: a vault, an RFC 6238 account, and a key-wrapping slot (a Kotlin
 * object the Rust core calls back through JNA). Prints the codes; exits 1 on a wrong one.
 */
fun main() = runBlocking {
    val dir = Files.createTempDirectory("cityauth-shrunk")
    val path = dir.resolve("vault.sqlite").toString()
    val key = KeyGenerator.getInstance("AES").apply { init(256) }.generateKey()
    val secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" // RFC 6238 appendix B, SHA-1
    val codes = CityAuthVault.create(path, "shrunk passphrase".toCharArray(), KdfSettings(256u, 1u, 1u)).use { vault ->
        val id = vault.addFromLink("otpauth://totp/RFC:shrunk?secret=$secret&digits=8")
        vault.addKeyWrapperSlot(AesGcmKeyWrapper("consumer-key", key))
        vault.lock()
        vault.unlock(AesGcmKeyWrapper("consumer-key", key))
        listOf(59uL, 1111111109uL).map { t -> vault.vault.codesAt(t).single { it.accountId == id }.code }
    }
    dir.toFile().deleteRecursively()
    println("codes: ${codes.joinToString(" ")}")
    if (codes != listOf("94287082", "07081804")) exitProcess(1)
}
