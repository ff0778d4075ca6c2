package city.cityauth.app

import android.content.Context

/** The app's own preferences (no secrets), in SharedPreferences. */
class Settings(context: Context) {
    private val prefs = context.getSharedPreferences("cityauth", Context.MODE_PRIVATE)

    /** Lock the vault whenever the app leaves the screen. */
    var appLock: Boolean
        get() = prefs.getBoolean("appLock", true)
        set(value) = prefs.edit().putBoolean("appLock", value).apply()

    /** A Keystore slot exists: offer fingerprint / screen-lock unlock. */
    var deviceKeyUnlock: Boolean
        get() = prefs.getBoolean("deviceKeyUnlock", false)
        set(value) = prefs.edit().putBoolean("deviceKeyUnlock", value).apply()

    /** The (encrypted) vault lives in the backed-up folder. */
    var includeInBackup: Boolean
        get() = prefs.getBoolean("includeInBackup", true)
        set(value) = prefs.edit().putBoolean("includeInBackup", value).apply()

    /** The FCM registration token, sent to the City server at enrollment. */
    var pushToken: String?
        get() = prefs.getString("pushToken", null)
        set(value) = prefs.edit().putString("pushToken", value).apply()
}
