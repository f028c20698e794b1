"""Hearing back: bounces, complaints and auto-replies, read from a mailbox or from saved files.

    mailbox (IMAP poller) ─┐
                           ├─► reports.read_report (parse: flufl.bounce, ARF, RFC 3834)
    files (`bounces read`) ┘          │
                                      ▼
                      processing.BounceProcessor (match to our Delivery, apply the effects once)
                                      │
                                      ▼
          Delivery (bounced_at, bounce_status...), BounceEvent, subscribers.registry

`verp` makes and checks the signed envelope-sender token that names a Delivery; `sources` reads
.eml, mbox and Maildir; `mailbox` is the IMAP poller (one process at a time, by advisory lock).
"""
