"""Customer notification (通知客戶機制, 003 network security point 16): the contract with a broker's
gateway. Signing and verifying requests, the notification payload, confirmation tokens, message templates
and delivery over an HTTP webhook or SMTP. No Django here: the web app (ccinspect.web.notification) keeps
the records, the bench and a broker's developers use the same functions."""
