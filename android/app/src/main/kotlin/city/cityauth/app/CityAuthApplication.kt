package city.cityauth.app

import android.app.Application
import androidx.lifecycle.DefaultLifecycleObserver
import androidx.lifecycle.LifecycleOwner
import androidx.lifecycle.ProcessLifecycleOwner
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.Dispatchers

/** Holds the one [Session] of the process, so that the push service and the UI share it. */
class CityAuthApplication : Application() {
    /** The vault session; lives as long as the process. */
    lateinit var session: Session
        private set

    override fun onCreate() {
        super.onCreate()
        session = Session(this, CoroutineScope(SupervisorJob() + Dispatchers.Main.immediate))
        session.start()
        // The app lock: leaving the app (every activity stopped) locks the vault.
        ProcessLifecycleOwner.get().lifecycle.addObserver(object : DefaultLifecycleObserver {
            override fun onStop(owner: LifecycleOwner) {
                if (session.settings.appLock) session.lock()
            }
        })
    }
}
