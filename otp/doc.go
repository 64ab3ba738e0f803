// Package otp computes and checks one-time passwords as authentik 2025.6
// does (its port of django-otp): HOTP (RFC 4226) and TOTP (RFC 6238)
// with HMAC-SHA1, the only algorithm authentik's TOTP devices use; the
// otpauth:// URI an authenticator app scans; random keys; and the random
// static (backup) codes of authentik's static devices.
//
// # Verification
//
// [TOTP.Verify] checks a code as django-otp's TOTPDevice.verify_token:
// the code is compared, as a number, with the codes of the time steps
// t-tolerance … t+tolerance, where t is the current step plus the
// device's drift; a step at or before the last step accepted (lastT) is
// never matched, so a code is accepted once and no older code after it.
// A match gives the matched step (the device's new lastT) and the drift
// that made it (the device's new drift, django-otp's OTP_TOTP_SYNC).
// Every comparison is constant-time in the codes compared.
//
// The package is pure: it keeps no state and reads no clock (the caller
// passes the time), so a device's state (lastT, drift) is the caller's
// to keep, atomically (directory.Devices.UpdateDevice).
package otp
