package city.cityauth

import city.cityauth.ffi.HostKeyWrapper
import city.cityauth.ffi.KeyWrapException
import java.security.GeneralSecurityException
import javax.crypto.Cipher
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec

/**
 * A key-wrapping slot over any AES [key] that javax.crypto can use: an Android Keystore key
 * (hardware-held, never leaves it) or, on a desktop JVM, one from a Java KeyStore.
 *
 * The wrapped form is the 12-byte IV that the cipher chose followed by the AES-GCM ciphertext
 * and 16-byte tag; [keyId] is bound in as associated data. Failures throw
 * [KeyWrapException.Failed] with a reason that holds no key material.
 */
class AesGcmKeyWrapper(private val keyId: String, private val key: SecretKey) : HostKeyWrapper {
    private companion object {
        const val TRANSFORMATION = "AES/GCM/NoPadding"
        const val IV_BYTES = 12
        const val TAG_BITS = 128
    }

    override fun keyId(): String = keyId

    override fun wrap(key: ByteArray): ByteArray = guarded("wrap") {
        val cipher = Cipher.getInstance(TRANSFORMATION)
        // The provider picks a fresh random IV (Android Keystore insists on doing so).
        cipher.init(Cipher.ENCRYPT_MODE, this.key)
        cipher.updateAAD(keyId.toByteArray(Charsets.UTF_8))
        val iv = cipher.iv
        if (iv.size != IV_BYTES) throw KeyWrapException.Failed("unexpected IV length ${iv.size}")
        iv + cipher.doFinal(key)
    }

    override fun unwrap(wrapped: ByteArray): ByteArray = guarded("unwrap") {
        if (wrapped.size <= IV_BYTES) throw KeyWrapException.Failed("the wrapped key is too short")
        val cipher = Cipher.getInstance(TRANSFORMATION)
        cipher.init(Cipher.DECRYPT_MODE, key, GCMParameterSpec(TAG_BITS, wrapped, 0, IV_BYTES))
        cipher.updateAAD(keyId.toByteArray(Charsets.UTF_8))
        cipher.doFinal(wrapped, IV_BYTES, wrapped.size - IV_BYTES)
    }

    private inline fun guarded(what: String, block: () -> ByteArray): ByteArray =
        try {
            block()
        } catch (e: GeneralSecurityException) {
            // The exception's class says enough (e.g. AEADBadTagException: another key).
            throw KeyWrapException.Failed("$what failed: ${e.javaClass.simpleName}")
        }
}
