"""All models, imported here so that `db.metadata` knows every table."""
from portal.models.accounts import STAFF_ROLES, ApiKey, ApiNonce, StaffUser
from portal.models.billing_runs import BillingRun
from portal.models.billing_changes import BillingChange
from portal.models.catalog import Item, Tier, Tierset
from portal.models.customers import Contact, Customer
from portal.models.imports import CsvImport
from portal.models.jobs import JOB_STATUSES, Job
from portal.models.invoices import EmailDelivery, Invoice, InvoiceLine, InvoiceLogo
from portal.models.packages import LineItem, Package, QuantityChange, Suspension
from portal.models.settings import Counter, MerchantSettings
from portal.models.transactions import Transaction, TransactionApplication
from portal.models.usage import UsageRecord
from portal.models.usage_rollups import UsageDayRollup, UsageRollupDirty, UsageRollupState
from portal.models.usage_alerts import ALERT_METRICS, UsageAlert
from portal.models.usage_urls import UsageUrl
from portal.models.dunning import InvoiceReminder, OverdueInvoice, ReminderSettings
from portal.models.usage_pulls import PullUsageUrl, UsagePull
from portal.models.webhooks import WebhookDelivery, WebhookEndpoint, WebhookEvent

__all__ = [
    "STAFF_ROLES", "ApiKey", "ApiNonce", "StaffUser", "BillingChange", "Item", "Tier", "Tierset", "Contact", "Customer",
    "EmailDelivery", "Invoice", "InvoiceLine", "InvoiceLogo", "LineItem", "Package", "QuantityChange", "Suspension",
    "Counter", "MerchantSettings", "Transaction", "TransactionApplication", "UsageRecord",
    "CsvImport", "UsageUrl", "BillingRun", "Job", "JOB_STATUSES",
    "UsageDayRollup", "UsageRollupDirty", "UsageRollupState",
    "InvoiceReminder", "OverdueInvoice", "ReminderSettings", "PullUsageUrl", "UsagePull",
    "WebhookDelivery", "WebhookEndpoint", "WebhookEvent",
    "ALERT_METRICS", "UsageAlert",
]
