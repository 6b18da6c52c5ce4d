"""The QuickBooks connector passes the conformance suite every connector passes."""

from ledgerlink.testing import ConnectorConformance


class TestQuickBooksConformance(ConnectorConformance):
    connector = "quickbooks"
    changes_only = frozenset({"quickbooks.void_invoice", "quickbooks.update_invoice",
                              "quickbooks.update_customer", "quickbooks.update_item"})
    cannot_undo = {
        # the Accounting API's Customer entity has no delete operation, only Active = false
        # (https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/customer),
        # and a customer found or created for a source customer serves every later run
        "quickbooks.find_or_create_customer": "QuickBooks does not delete customers",
    }
