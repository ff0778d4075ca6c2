package city.cityauth.app.platform

import android.os.Build
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyProperties
import city.cityauth.JcaDeviceSigner
import city.cityauth.ffi.HostDeviceSigner
import city.cityauth.ffi.KeyWrapException
import java.security.GeneralSecurityException
import java.security.KeyPairGenerator
import java.security.KeyStore
import java.security.ProviderException
import java.security.spec.ECGenParameterSpec

/**
 * The device key on Android: a P-256 signing key generated inside the Android Keystore, in
 * StrongBox where the phone has one, never exported. The core gets only its public key and
 * asks it to sign the protocol's bytes; the signing itself is the library's [JcaDeviceSigner],
 * the code the JVM tests run with a software key.
 *
 * The key needs no user authentication: every poll for approval requests is a signed request,
 * made when a push wakes the app. The user's confirmation of an approval is the app's own
 * number-matching screen.
 */
class KeystoreDeviceSigner(private val alias: String = "cityauth-device-key-v1") : HostDeviceSigner {
    private companion object {
        const val PROVIDER = "AndroidKeyStore"
    }

    override fun keyId(): String = alias

    override fun publicKey(): ByteArray = signer().publicKey()

    override fun sign(message: ByteArray): ByteArray = signer().sign(message)

    /** Deletes the key (after the phone is unregistered), so the next enrollment makes a new one. */
    fun deleteKey() {
        try {
            keyStore().deleteEntry(alias)
        } catch (e: GeneralSecurityException) {
            // Nothing to delete, or the Keystore is unavailable: the key is unusable either way.
        }
    }

    private fun keyStore(): KeyStore = KeyStore.getInstance(PROVIDER).apply { load(null) }

    /** The JCA signer over the Keystore entry, made on first use. */
    private fun signer(): JcaDeviceSigner =
        try {
            val store = keyStore()
            val entry = store.getEntry(alias, null) as? KeyStore.PrivateKeyEntry
            if (entry != null) {
                JcaDeviceSigner(alias, entry.privateKey, entry.certificate.publicKey)
            } else {
                val pair = generate()
                JcaDeviceSigner(alias, pair.private, pair.public)
            }
        } catch (e: GeneralSecurityException) {
            throw KeyWrapException.Failed("Keystore: ${e.javaClass.simpleName}")
        } catch (e: ProviderException) {
            throw KeyWrapException.Failed("Keystore: ${e.javaClass.simpleName}")
        }

    private fun generate(): java.security.KeyPair {
        fun spec(strongBox: Boolean) =
            KeyGenParameterSpec.Builder(alias, KeyProperties.PURPOSE_SIGN)
                .setAlgorithmParameterSpec(ECGenParameterSpec("secp256r1"))
                .setDigests(KeyProperties.DIGEST_SHA256)
                .apply { if (strongBox) setIsStrongBoxBacked(true) }
                .build()
        val generator = KeyPairGenerator.getInstance(KeyProperties.KEY_ALGORITHM_EC, PROVIDER)
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.P) {
            try {
                generator.initialize(spec(strongBox = true))
                return generator.generateKeyPair()
            } catch (e: ProviderException) {
                // StrongBoxUnavailableException (API 28, a ProviderException; not named here
                // so that API 26 never resolves it): the Keystore's TEE holds the key instead.
            }
        }
        generator.initialize(spec(strongBox = false))
        return generator.generateKeyPair()
    }
}

