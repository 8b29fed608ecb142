"""What is said to people, and how it reaches them.

Empty for now: the transactional outbox, the templates and the channels arrive with the
deadline-notification work (issue 4). Nothing here is called yet.
"""
