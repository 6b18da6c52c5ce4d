"""The recipe the review tests approve and reject: a Stripe invoice paid, booked as income
once a person approved the one request it sends."""

#: one step, so that every value of its one request is known when it is reviewed
ENTRY_RECIPE = {
    "id": "reviewed-invoice-income",
    "version": 1,
    "description": "Each paid Stripe invoice is booked as income, once a person has approved the entry.",
    "review": True,
    "trigger": {"event": "stripe.invoice.paid", "connection": "stripe"},
    "steps": [{
        "id": "entry",
        "action": "quickbooks.create_journal_entry",
        "connection": "quickbooks",
        "input": {
            "TxnDate": {"$path": "$.event.data.object.status_transitions.paid_at", "$as": "date"},
            "PrivateNote": {"$concat": ["Stripe invoice ", {"$path": "$.event.data.object.id"},
                                        " paid; event ", {"$path": "$.event.id"}]},
            "CurrencyRef": {"$path": "$.event.data.object.currency", "$as": "upper"},
            "Amount": {"$path": "$.event.data.object.amount_paid", "$as": "stripe.money",
                       "currency": {"$path": "$.event.data.object.currency"}},
            "DebitAccount": "4",
            "CreditAccount": "1",
        },
    }],
}
