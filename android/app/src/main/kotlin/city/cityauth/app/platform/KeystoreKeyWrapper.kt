package city.cityauth.app.platform

import android.os.Build
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyProperties
import city.cityauth.AesGcmKeyWrapper
import city.cityauth.ffi.HostKeyWrapper
import city.cityauth.ffi.KeyWrapException
import java.security.GeneralSecurityException
import java.security.KeyStore
import java.security.ProviderException
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey

/**
 * The vault's key-wrapping slot on Android: an AES-256-GCM key generated inside the Android
 * Keystore (hardware-backed where the phone has it), never exported. The key works only for
 * [AUTH_SECONDS] after the user confirmed with a strong biometric or the screen lock, so the
 * app shows [confirmUser] first. The AES-GCM framing is the library's [AesGcmKeyWrapper], the
 * same code the JVM tests run with a software key.
 */
class KeystoreKeyWrapper(private val alias: String = "cityauth-vault-key-v1") : HostKeyWrapper {
    private companion object {
        const val PROVIDER = "AndroidKeyStore"
        const val AUTH_SECONDS = 30
    }

    override fun keyId(): String = alias

    override fun wrap(key: ByteArray): ByteArray = AesGcmKeyWrapper(alias, keystoreKey(create = true)).wrap(key)

    override fun unwrap(wrapped: ByteArray): ByteArray =
        AesGcmKeyWrapper(alias, keystoreKey(create = false)).unwrap(wrapped)

    /** Deletes the Keystore key; slots made with it can no longer be opened. */
    fun deleteKey() {
        try {
            keyStore().deleteEntry(alias)
        } catch (e: GeneralSecurityException) {
            // Nothing to delete, or the Keystore is unavailable: the slot is gone either way.
        }
    }

    private fun keyStore(): KeyStore = KeyStore.getInstance(PROVIDER).apply { load(null) }

    private fun keystoreKey(create: Boolean): SecretKey =
        try {
            (keyStore().getKey(alias, null) as? SecretKey)
                ?: if (create) generate() else throw KeyWrapException.Failed("the device key is gone")
        } catch (e: GeneralSecurityException) {
            throw KeyWrapException.Failed("Keystore: ${e.javaClass.simpleName}")
        } catch (e: ProviderException) {
            // E.g. no screen lock is set, so a key that needs the user cannot be made.
            throw KeyWrapException.Failed("Keystore: ${e.javaClass.simpleName}")
        }

    private fun generate(): SecretKey {
        val spec = KeyGenParameterSpec.Builder(alias, KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT)
            .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
            .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
            .setKeySize(256)
            .setUserAuthenticationRequired(true)
            .apply {
                if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.R) {
                    setUserAuthenticationParameters(
                        AUTH_SECONDS,
                        KeyProperties.AUTH_BIOMETRIC_STRONG or KeyProperties.AUTH_DEVICE_CREDENTIAL,
                    )
                } else {
                    @Suppress("DEPRECATION")
                    setUserAuthenticationValidityDurationSeconds(AUTH_SECONDS)
                }
            }
            .build()
        return KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, PROVIDER).run {
            init(spec)
            generateKey()
        }
    }
}
