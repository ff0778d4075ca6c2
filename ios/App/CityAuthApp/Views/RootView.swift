import CityAuthFFI
import SwiftUI

/// Chooses the screen from the vault's state; shows a pending request over anything.
struct RootView: View {
    @EnvironmentObject private var model: AppModel

    var body: some View {
        Group {
            switch model.phase {
            case .starting:
                ProgressView()
            case .noVault:
                PassphraseView(mode: .create)
            case .locked:
                PassphraseView(mode: .unlock)
            case .unlocked:
                TabView {
                    NavigationStack { AccountListView() }
                        .tabItem { Label("tab.codes", systemImage: "number") }
                    NavigationStack { SettingsView() }
                        .tabItem { Label("tab.settings", systemImage: "gear") }
                }
            }
        }
        .sheet(item: firstPending) { challenge in
            ApprovalView(challenge: challenge)
        }
        .alert("app.name", isPresented: hasMessage) {
            Button("common.ok") { model.message = nil }
        } message: {
            Text(model.message ?? "")
        }
    }

    private var firstPending: Binding<Challenge?> {
        Binding(get: { model.pending.first }, set: { _ in })
    }

    private var hasMessage: Binding<Bool> {
        Binding(get: { model.message != nil }, set: { shown in if !shown { model.message = nil } })
    }
}

extension Challenge: Identifiable {}
