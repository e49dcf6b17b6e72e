// Your sessions: once django-otp-webauthn's script has added a passkey, the page is read again to list it.
document.addEventListener("otp_webauthn.register_complete", () => {
  window.location.reload();
});
