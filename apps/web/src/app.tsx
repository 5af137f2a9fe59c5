import { ConnectedDashboard } from './dashboard.tsx';
import { SignInScreen } from './features/auth/sign-in-screen.tsx';
import { AuthProvider, useAuth } from './features/auth/use-auth.tsx';
import { AnnouncerProvider } from './ui/announcer.tsx';

function SignedInOrNot() {
  const { state } = useAuth();
  return state.status === 'signed-in' ? (
    <ConnectedDashboard key={state.key} apiKey={state.key} />
  ) : (
    <SignInScreen />
  );
}

export function App() {
  return (
    <AnnouncerProvider>
      <AuthProvider>
        <SignedInOrNot />
      </AuthProvider>
    </AnnouncerProvider>
  );
}
