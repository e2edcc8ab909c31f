"""Mail transports: `file` writes each message to instance/outbox/ as a .eml file (development:
nothing leaves the machine); `smtp` hands it to the configured SMTP server.

A transport raises `PermanentFailure` for a message that will never go (refused address, too
large) and any other exception for a failure worth retrying (server down, timeout, 4xx).
"""

import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path

from flask import Flask


class PermanentFailure(Exception):
    """The message cannot be sent as it is; trying again will not help."""


class FileTransport:
    def __init__(self, folder: Path):
        self.folder = folder

    def send(self, message: EmailMessage, name: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{name}.eml"
        path.write_bytes(bytes(message))


class SmtpTransport:
    def __init__(self, config):
        self.config = config

    def send(self, message: EmailMessage, name: str) -> None:
        config = self.config
        smtp = smtplib.SMTP(config["MAIL_SERVER"], int(config["MAIL_PORT"]), timeout=config["MAIL_TIMEOUT_SECONDS"])
        try:
            if config["MAIL_USE_STARTTLS"]:
                smtp.starttls(context=ssl.create_default_context())  # checks the certificate
            if config["MAIL_USERNAME"]:
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
            try:
                smtp.send_message(message)
            except smtplib.SMTPRecipientsRefused as refused:
                codes = [code for code, _ in refused.recipients.values()]
                if all(500 <= code < 600 for code in codes):
                    raise PermanentFailure(f"the mail server refused the address ({codes[0]})") from refused
                raise
            except smtplib.SMTPDataError as error:
                if 500 <= error.smtp_code < 600:
                    raise PermanentFailure(f"the mail server refused the message ({error.smtp_code})") from error
                raise
        except BaseException:
            smtp.close()
            raise
        # Accepted: a failure to say goodbye must not make the message look unsent (and be sent again).
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()


def transport_for(app: Flask):
    backend = app.config["MAIL_BACKEND"]
    if backend == "smtp":
        return SmtpTransport(app.config)
    if backend == "file":
        return FileTransport(Path(app.instance_path) / "outbox")
    raise ValueError(f"MAIL_BACKEND must be 'file' or 'smtp', not {backend!r}")
