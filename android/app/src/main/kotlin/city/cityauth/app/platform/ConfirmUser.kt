package city.cityauth.app.platform

import android.os.Build
import androidx.biometric.BiometricManager.Authenticators.BIOMETRIC_STRONG
import androidx.biometric.BiometricManager.Authenticators.BIOMETRIC_WEAK
import androidx.biometric.BiometricManager.Authenticators.DEVICE_CREDENTIAL
import androidx.biometric.BiometricPrompt
import androidx.core.content.ContextCompat
import androidx.fragment.app.FragmentActivity
import kotlin.coroutines.resume
import kotlinx.coroutines.suspendCancellableCoroutine

/**
 * Asks the user to confirm with a biometric or the screen lock (BiometricPrompt); true when
 * they did. Opens the Keystore key's use window (see [KeystoreKeyWrapper]).
 */
suspend fun FragmentActivity.confirmUser(title: String): Boolean = suspendCancellableCoroutine { continuation ->
    val callback = object : BiometricPrompt.AuthenticationCallback() {
        override fun onAuthenticationSucceeded(result: BiometricPrompt.AuthenticationResult) {
            if (continuation.isActive) continuation.resume(true)
        }

        override fun onAuthenticationError(errorCode: Int, errString: CharSequence) {
            if (continuation.isActive) continuation.resume(false)
        }
        // onAuthenticationFailed: a finger not recognised; the prompt stays up for another try.
    }
    val prompt = BiometricPrompt(this, ContextCompat.getMainExecutor(this), callback)
    // Strong biometrics with the screen-lock fallback where Android allows the pair (API 30+).
    val authenticators = if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.R) {
        BIOMETRIC_STRONG or DEVICE_CREDENTIAL
    } else {
        BIOMETRIC_WEAK or DEVICE_CREDENTIAL
    }
    prompt.authenticate(
        BiometricPrompt.PromptInfo.Builder()
            .setTitle(title)
            .setAllowedAuthenticators(authenticators)
            .build(),
    )
    continuation.invokeOnCancellation { prompt.cancelAuthentication() }
}
