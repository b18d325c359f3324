"""The booking service's outside world: Kannel (SMS), the SMTP intake and relay (e-mail),
DKIM checks, secrets kept in files. Errors: booking.domain.errors (GatewayError and below,
MailRefused, SecretFileError)."""
