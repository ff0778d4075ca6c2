package city.cityauth

import city.cityauth.ffi.KdfSettings
import java.nio.file.Files
import java.nio.file.Path

/** Argon2id at test cost (256 KiB, 1 pass): real derivation, without a second per vault. */
val CHEAP_KDF = KdfSettings(256u, 1u, 1u)

/** A fresh folder for a vault file; its path for `Vault.create`. */
fun newVaultPath(): String {
    val dir: Path = Files.createTempDirectory("cityauth-kotlin-test")
    dir.toFile().deleteOnExit()
    return dir.resolve("vault.sqlite").toString()
}

/** RFC 6238 appendix B secrets (ASCII "1234567890" repeated to 20, 32 and 64 bytes), in base32. */
object Rfc6238 {
    const val SHA1 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    const val SHA256 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA"
    const val SHA512 =
        "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNA"
}
