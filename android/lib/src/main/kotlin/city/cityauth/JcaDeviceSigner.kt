package city.cityauth

import city.cityauth.ffi.HostDeviceSigner
import city.cityauth.ffi.KeyWrapException
import java.security.GeneralSecurityException
import java.security.KeyPairGenerator
import java.security.PrivateKey
import java.security.PublicKey
import java.security.Signature
import java.security.spec.ECGenParameterSpec

/**
 * The device key as a JCA P-256 key pair: an Android Keystore or StrongBox key (the private
 * half never leaves it; pass its `PrivateKey` handle and the provider "AndroidKeyStore") or,
 * on a desktop JVM, any provider's EC key. The core gets [publicKey] as X.509
 * (`PublicKey.encoded`) and each signature as `SHA256withECDSA` gives it (X9.62 DER); it
 * converts that to the protocol's form and checks it against the enrolled key.
 *
 * Failures throw [KeyWrapException.Failed] naming the step and the exception's class, never
 * key material. Pass it to [CityAuthApprovals] as `signer`.
 */
class JcaDeviceSigner(
    private val keyId: String,
    private val privateKey: PrivateKey,
    private val publicKey: PublicKey,
    private val provider: String? = null,
) : HostDeviceSigner {
    companion object {
        private const val ALGORITHM = "SHA256withECDSA"

        /** A new P-256 key pair from the JVM's default provider (desktop JVMs and tests). */
        fun generate(keyId: String): JcaDeviceSigner {
            val pair = KeyPairGenerator.getInstance("EC").run {
                initialize(ECGenParameterSpec("secp256r1"))
                generateKeyPair()
            }
            return JcaDeviceSigner(keyId, pair.private, pair.public)
        }
    }

    override fun keyId(): String = keyId

    override fun publicKey(): ByteArray =
        publicKey.encoded ?: throw KeyWrapException.Failed("the key store exports no public key")

    override fun sign(message: ByteArray): ByteArray =
        try {
            val signature = if (provider == null) Signature.getInstance(ALGORITHM) else Signature.getInstance(ALGORITHM, provider)
            signature.initSign(privateKey)
            signature.update(message)
            signature.sign()
        } catch (e: GeneralSecurityException) {
            // E.g. KeyPermanentlyInvalidatedException, UserNotAuthenticatedException.
            throw KeyWrapException.Failed("sign failed: ${e.javaClass.simpleName}")
        }
}
