"""Use cases over a unit of work, one module each (booking, dial-in, dial-out, usage,
messaging and its order desk, notices, the outbox, billing, the dashboard's figures). They raise
booking.domain.errors; the store's errors (booking.store.errors) pass through."""
