package city.cityauth.app

import android.Manifest
import android.os.Build
import android.os.Bundle
import android.view.WindowManager
import androidx.activity.compose.setContent
import androidx.compose.material3.MaterialTheme
import androidx.fragment.app.FragmentActivity
import city.cityauth.app.ui.CityAuthRoot

/** The one activity: Compose screens over the process's [Session]. A FragmentActivity because
 *  BiometricPrompt needs one. */
class MainActivity : FragmentActivity() {
    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        // Codes are secrets: keep them out of screenshots and the recent-apps preview.
        window.setFlags(WindowManager.LayoutParams.FLAG_SECURE, WindowManager.LayoutParams.FLAG_SECURE)
        // Tapjacking: a window drawn over ours (an overlay app) must not trick a tap onto
        // "Approve". Touches that arrive while another window obscures ours are dropped, and
        // from Android 12 other apps' overlays are hidden while ours is in front.
        window.decorView.filterTouchesWhenObscured = true
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.S) {
            window.setHideOverlayWindows(true)
        }
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.TIRAMISU) {
            requestPermissions(arrayOf(Manifest.permission.POST_NOTIFICATIONS), 1)
        }
        val session = (application as CityAuthApplication).session
        setContent {
            MaterialTheme {
                CityAuthRoot(session, this)
            }
        }
    }

    override fun onResume() {
        super.onResume()
        // Coming back to the app is also a moment to look for pending requests.
        (application as CityAuthApplication).session.wake()
    }
}
