package city.cityauth.app.platform

import android.app.NotificationChannel
import android.app.NotificationManager
import android.app.PendingIntent
import android.content.Context
import android.content.Intent
import android.os.Build
import city.cityauth.app.CityAuthApplication
import city.cityauth.app.MainActivity
import city.cityauth.app.R
import city.cityauth.app.Settings
import com.google.firebase.messaging.FirebaseMessaging
import com.google.firebase.messaging.FirebaseMessagingService
import com.google.firebase.messaging.RemoteMessage
import kotlin.coroutines.resume
import kotlinx.coroutines.suspendCancellableCoroutine

/**
 * FCM: a message only wakes the core. Its payload (a challenge id at most) is not read: the
 * core fetches the pending requests over the signed channel and verifies each one. While the
 * vault is locked, a notification asks the user to open the app.
 */
class PushService : FirebaseMessagingService() {
    override fun onNewToken(token: String) {
        Settings(this).pushToken = token
    }

    override fun onMessageReceived(message: RemoteMessage) {
        (application as CityAuthApplication).session.wake()
        notifyUser()
    }

    private fun notifyUser() {
        val manager = getSystemService(Context.NOTIFICATION_SERVICE) as NotificationManager
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.O) {
            manager.createNotificationChannel(
                NotificationChannel(CHANNEL, getString(R.string.push_channel), NotificationManager.IMPORTANCE_HIGH),
            )
        }
        val open = PendingIntent.getActivity(
            this, 0,
            Intent(this, MainActivity::class.java).addFlags(Intent.FLAG_ACTIVITY_SINGLE_TOP),
            PendingIntent.FLAG_IMMUTABLE or PendingIntent.FLAG_UPDATE_CURRENT,
        )
        val builder = if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.O) {
            android.app.Notification.Builder(this, CHANNEL)
        } else {
            @Suppress("DEPRECATION")
            android.app.Notification.Builder(this)
        }
        val notification = builder
            .setSmallIcon(android.R.drawable.ic_lock_idle_lock)
            .setContentTitle(getString(R.string.push_title))
            .setContentText(getString(R.string.push_text))
            .setContentIntent(open)
            .setAutoCancel(true)
            .build()
        manager.notify(NOTIFICATION_ID, notification)
    }

    private companion object {
        const val CHANNEL = "approvals"
        const val NOTIFICATION_ID = 1
    }
}

/**
 * The FCM token to send at enrollment, or null when Firebase is not set up in this build
 * (no google-services.json) or has no token yet: enrollment then goes on without push.
 */
suspend fun currentPushToken(settings: Settings): String? {
    settings.pushToken?.let { return it }
    val token = try {
        suspendCancellableCoroutine<String?> { continuation ->
            FirebaseMessaging.getInstance().token.addOnCompleteListener { task ->
                continuation.resume(if (task.isSuccessful) task.result else null)
            }
        }
    } catch (e: IllegalStateException) {
        null // FirebaseApp is not initialised: no google-services.json in this build.
    }
    if (token != null) settings.pushToken = token
    return token
}
