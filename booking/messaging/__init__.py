"""Ordering by SMS and e-mail, replies, notices to invitees and invitations (issue 6)."""
