// After a passkey was added (django-otp-webauthn's register script), reload the profile so
// that the list shows it. No inline script: the CSP allows scripts from /static/ only.
document.addEventListener("otp_webauthn.register_complete", () => {
  window.location.reload();
});
