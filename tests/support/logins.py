"""Who logs in during tests: the fixture users' e-mails and passwords."""

STAFF_PASSWORD = "correct-horse-battery"  # staff users made by the merchant fixtures
JANE, BOB = "jane@acme.example", "bob@bravo.example"  # contacts of customers A and B
CONTACT_PASSWORD = "jane-s-secret-1"
