import UIKit
import UserNotifications

/// APNs: registers for remote notifications and, when one arrives, only wakes the core. The
/// payload carries a challenge id at most and is not trusted: the core fetches the pending
/// requests over the signed channel and verifies the server's signature on each.
final class PushDelegate: NSObject, UIApplicationDelegate, UNUserNotificationCenterDelegate {
    weak var model: AppModel?

    func application(
        _ application: UIApplication,
        didFinishLaunchingWithOptions launchOptions: [UIApplication.LaunchOptionsKey: Any]? = nil
    ) -> Bool {
        UNUserNotificationCenter.current().delegate = self
        UNUserNotificationCenter.current().requestAuthorization(options: [.alert, .sound]) { granted, _ in
            guard granted else { return }
            DispatchQueue.main.async { application.registerForRemoteNotifications() }
        }
        return true
    }

    func application(_ application: UIApplication, didRegisterForRemoteNotificationsWithDeviceToken deviceToken: Data) {
        let token = deviceToken.map { String(format: "%02x", $0) }.joined()
        Task { @MainActor in self.model?.pushToken = token }
    }

    func application(_ application: UIApplication, didFailToRegisterForRemoteNotificationsWithError error: Error) {
        // No push: approvals still arrive when the app is opened (the pending list is fetched).
    }

    /// A background (content-available) push: fetch, then tell iOS whether anything came.
    func application(
        _ application: UIApplication,
        didReceiveRemoteNotification userInfo: [AnyHashable: Any],
        fetchCompletionHandler completionHandler: @escaping (UIBackgroundFetchResult) -> Void
    ) {
        Task { @MainActor in
            guard let model = self.model else { return completionHandler(.noData) }
            let before = model.pending.count
            await model.wake()
            completionHandler(model.pending.count > before ? .newData : .noData)
        }
    }

    /// A visible push while the app is open: wake instead of showing a banner.
    func userNotificationCenter(
        _ center: UNUserNotificationCenter,
        willPresent notification: UNNotification,
        withCompletionHandler completionHandler: @escaping (UNNotificationPresentationOptions) -> Void
    ) {
        Task { @MainActor in
            await self.model?.wake()
            completionHandler([])
        }
    }

    /// The user tapped the notification: the app opens and fetches what is pending.
    func userNotificationCenter(
        _ center: UNUserNotificationCenter,
        didReceive response: UNNotificationResponse,
        withCompletionHandler completionHandler: @escaping () -> Void
    ) {
        Task { @MainActor in
            await self.model?.wake()
            completionHandler()
        }
    }
}
