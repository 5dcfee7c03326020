"""Admin for support staff over the AI credits models.

Balances, purchases, usage, the ledger and webhook deliveries are records of what happened and
change only through the services (billing, grants, fulfilment), so their admins are view-only.
Packages and feature prices are configuration and stay editable. Credits are granted from the
business admin (accounts.admin); a stuck purchase is re-checked here through reconciliation.
"""

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import get_permission_codename
from django.db import models, transaction
from django.db.models import DecimalField, OuterRef, Subquery
from django.template.response import TemplateResponse

from accounts.admin import BusinessAdmin
from accounts.models import Business
from ai_features.credits.billing import feature_prices_forget
from ai_features.credits.grants import credits_grant
from ai_features.credits.money import CENT
from ai_features.fields import MoneyFormField
from ai_features.models import (
    AICreditPurchase,
    AIFeaturePrice,
    AITransaction,
    AIUsageAlert,
    BusinessAICredits,
    CreditClawback,
    CreditLedgerEntry,
    CreditPackage,
    IdempotencyKey,
    InvalidWebhookCount,
    PurchaseDispute,
    PurchaseRefund,
    UsageDaily,
    UsageRollupState,
    WebhookEvent,
)
from ai_features.payments.errors import GatewayError
from ai_features.payments.fulfilment import Outcome
from ai_features.payments.reconciliation import is_recheckable, purchase_reconcile
from pos.errors import DomainError

Status = AICreditPurchase.PaymentStatus


class ReadOnlyAdmin(admin.ModelAdmin):
    """View-only: nothing can be added, changed or deleted here, whoever asks."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CreditPackage)
class CreditPackageAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "name",
        "price",
        "currency",
        "credits",
        "bonus_credits",
        "is_active",
        "display_order",
    )
    list_editable = ("is_active", "display_order")
    list_filter = ("is_active",)
    search_fields = ("code", "name")
    ordering = ("display_order", "id")


@admin.register(AIFeaturePrice)
class AIFeaturePriceAdmin(admin.ModelAdmin):
    list_display = ("feature", "credits", "is_active", "description", "updated_at")
    list_editable = ("credits", "is_active")
    list_filter = ("is_active",)
    search_fields = ("feature", "description")
    readonly_fields = ("updated_at",)

    # Prices are cached per process for a short while; drop this process's copy on an edit.
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        feature_prices_forget()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        feature_prices_forget()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        feature_prices_forget()


@admin.register(BusinessAICredits)
class BusinessAICreditsAdmin(ReadOnlyAdmin):
    list_display = (
        "business",
        "balance",
        "expires_at",
        "is_active",
        "purchased_at",
        "last_topped_up_at",
        "updated_at",
    )
    list_select_related = ("business",)
    list_filter = ("is_active",)
    search_fields = ("business__name",)


@admin.register(AICreditPurchase)
class AICreditPurchaseAdmin(ReadOnlyAdmin):
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}  # Django 6's default
    list_display = (
        "payment_reference",
        "business",
        "package",
        "payment_method",
        "payment_status",
        "total_amount",
        "currency",
        "total_credits",
        "purchased_at",
        "completed_at",
    )
    list_select_related = ("business",)
    list_filter = ("payment_status", "payment_method", "package")
    search_fields = ("payment_reference", "business__name")
    date_hierarchy = "purchased_at"
    actions = ("recheck_with_gateway",)

    @admin.display(description="Credits")
    def total_credits(self, obj):
        return obj.total_credits

    def has_recheck_permission(self, request):
        """Re-checking settles a purchase, so it takes the (model) right to change purchases."""
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.{get_permission_codename('change', opts)}")

    @admin.action(description="Re-check with the gateway", permissions=["recheck"])
    def recheck_with_gateway(self, request, queryset):
        """Settle each selected purchase the re-check rule allows (pending, or declined
        recently) from what its gateway says about it."""
        outcomes: dict[str, list[str]] = {}
        skipped, errors = [], []
        for purchase in queryset.select_related("business").order_by("pk"):
            reference = purchase.payment_reference
            if not is_recheckable(purchase, by_operator=True):
                skipped.append(f"{reference} ({purchase.payment_status})")
                continue
            try:
                outcome = purchase_reconcile(purchase=purchase)
            except GatewayError as exc:
                errors.append(f"{reference}: {exc.detail}")
                continue
            outcomes.setdefault(outcome, []).append(reference)

        credited = outcomes.pop(Outcome.CREDITED, [])
        if credited:
            self.message_user(
                request,
                f"Credited {len(credited)} purchase(s): {', '.join(credited)}.",
                messages.SUCCESS,
            )
        for outcome, references in outcomes.items():
            label = Outcome(outcome).value.replace("_", " ").capitalize()
            self.message_user(
                request,
                f"{label}: {', '.join(references)}.",
                messages.WARNING if outcome == Outcome.FAILED else messages.INFO,
            )
        if skipped:
            self.message_user(
                request,
                f"Skipped {len(skipped)} purchase(s) that are already settled: "
                f"{', '.join(skipped)}.",
                messages.WARNING,
            )
        for error in errors:
            self.message_user(request, f"Paystack could not be asked about {error}", messages.ERROR)


@admin.register(AITransaction)
class AITransactionAdmin(ReadOnlyAdmin):
    list_display = (
        "business",
        "feature",
        "status",
        "success",
        "credits_used",
        "tokens_used",
        "timestamp",
    )
    list_select_related = ("business",)
    list_filter = ("feature", "status", "success")
    search_fields = ("business__name", "feature")
    date_hierarchy = "timestamp"


@admin.register(AIUsageAlert)
class AIUsageAlertAdmin(admin.ModelAdmin):
    """Alerts are raised by the services; support may only mark them acknowledged."""

    list_display = ("business", "alert_type", "current_balance", "sent_at", "acknowledged")
    list_select_related = ("business",)
    list_filter = ("alert_type", "acknowledged")
    list_editable = ("acknowledged",)
    search_fields = ("business__name",)
    readonly_fields = ("business", "alert_type", "current_balance", "threshold", "sent_at")
    fields = ("business", "alert_type", "current_balance", "threshold", "sent_at", "acknowledged")

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CreditLedgerEntry)
class CreditLedgerEntryAdmin(ReadOnlyAdmin):
    list_display = (
        "business",
        "kind",
        "amount",
        "balance_after",
        "purchase_reference",
        "usage_id",
        "created_at",
    )
    list_select_related = ("business", "purchase")
    list_filter = ("kind",)
    search_fields = ("business__name", "purchase__payment_reference")
    date_hierarchy = "created_at"

    @admin.display(description="Purchase", ordering="purchase__payment_reference")
    def purchase_reference(self, obj):
        return obj.purchase.payment_reference if obj.purchase_id else "-"


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    """Every webhook delivery of both gateways, stored as it came, before any check."""

    list_display = ("received_at", "event", "reference", "signature_valid", "outcome")
    list_filter = ("event", "outcome", "signature_valid")
    search_fields = ("reference",)
    date_hierarchy = "received_at"


@admin.register(UsageDaily)
class UsageDailyAdmin(ReadOnlyAdmin):
    """The daily usage rollup, for the operator's reports; built by `rollup_ai_usage`."""

    list_display = ("day", "business", "feature", "user", "model", "requests", "credits_used")
    list_filter = ("feature",)
    list_select_related = ("business", "user")
    search_fields = ("business__name",)
    date_hierarchy = "day"


@admin.register(UsageRollupState)
class UsageRollupStateAdmin(ReadOnlyAdmin):
    list_display = ("business", "through", "updated_at")
    list_select_related = ("business",)
    search_fields = ("business__name",)


@admin.register(InvalidWebhookCount)
class InvalidWebhookCountAdmin(ReadOnlyAdmin):
    """Unsigned webhook deliveries per address and minute; `dropped` were counted, not stored."""

    list_display = ("minute", "remote_addr", "received", "dropped")
    search_fields = ("remote_addr",)
    date_hierarchy = "minute"


@admin.register(PurchaseRefund)
class PurchaseRefundAdmin(ReadOnlyAdmin):
    list_display = (
        "refund_key",
        "purchase",
        "amount",
        "currency",
        "credits_clawed_back",
        "credits_reserved",
        "shortfall",
        "created_at",
    )
    list_select_related = ("purchase", "clawback")
    search_fields = ("purchase__payment_reference", "refund_key")


@admin.register(PurchaseDispute)
class PurchaseDisputeAdmin(ReadOnlyAdmin):
    list_display = (
        "dispute_id",
        "gateway",
        "purchase",
        "status",
        "amount",
        "currency",
        "opened_at",
        "closed_at",
    )
    list_filter = ("gateway", "status")
    list_select_related = ("purchase",)
    search_fields = ("purchase__payment_reference", "dispute_id")


@admin.register(CreditClawback)
class CreditClawbackAdmin(ReadOnlyAdmin):
    """What each refund or dispute claimed back: taken, still reserved, short."""

    list_display = (
        "id",
        "kind",
        "purchase",
        "share",
        "taken",
        "reserved",
        "shortfall",
        "returned",
        "cancelled",
        "created_at",
    )
    list_filter = ("kind", "cancelled")
    list_select_related = ("purchase",)
    search_fields = ("purchase__payment_reference",)


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(ReadOnlyAdmin):
    # A feature's stored answer holds a customer's results: support sees that a key was used,
    # and what it charged or bought, not what it returned.
    fields = (
        "scope",
        "key",
        "feature",
        "user",
        "business",
        "purchase",
        "usage",
        "created_at",
        "expires_at",
    )
    list_display = fields
    list_filter = ("scope",)
    list_select_related = ("user", "business", "purchase", "usage")
    search_fields = ("key",)


# Who may grant: granting records an `admin_grant` purchase, so it takes the right to add one.
GRANT_PERMISSION = "ai_features.add_aicreditpurchase"


class GrantCreditsForm(forms.Form):
    credits = MoneyFormField(
        min_value=Decimal("0.01"),
        max_value=Decimal("100000"),
        help_text="Credits to give each selected business (more than 0, at most 100,000).",
    )
    package = forms.CharField(
        label="Note",
        max_length=30,
        initial="support",
        help_text="Recorded as the grant's package label (at most 30 characters).",
    )


# Businesses are accounts' model; their credits and the grant action belong to this app, so the
# business admin is extended here rather than accounts reaching into ai_features.
admin.site.unregister(Business)


@admin.register(Business)
class BusinessCreditsAdmin(BusinessAdmin):
    list_display = (*BusinessAdmin.list_display, "current_balance")
    actions = ("grant_credits",)

    def get_queryset(self, request):
        active_balance = BusinessAICredits.objects.filter(
            business=OuterRef("pk"), is_active=True
        ).values("balance")[:1]
        return (
            super()
            .get_queryset(request)
            .annotate(
                active_balance=Subquery(
                    active_balance, output_field=DecimalField(max_digits=12, decimal_places=2)
                )
            )
        )

    @admin.display(description="Current balance", ordering="active_balance")
    def current_balance(self, obj):
        """The balance of the business's active credits row; 0.00 when it has none."""
        if hasattr(obj, "active_balance"):  # annotated by get_queryset: no query per row
            balance = obj.active_balance
        else:
            row = BusinessAICredits.objects.filter(business=obj, is_active=True).first()
            balance = row.balance if row else None
        return (balance or Decimal("0")).quantize(CENT)  # no row: 0.00, shown as money

    def has_grant_credits_permission(self, request):
        return request.user.has_perm(GRANT_PERMISSION)

    @admin.action(description="Grant credits", permissions=["grant_credits"])
    def grant_credits(self, request, queryset):
        """Ask how many credits first; on the confirmed, valid form grant them to each business."""
        if "confirm" in request.POST:
            form = GrantCreditsForm(request.POST)
            if form.is_valid():
                return self._grant(request, queryset, **form.cleaned_data)
        else:
            form = GrantCreditsForm()
        context = {
            **self.admin_site.each_context(request),
            "title": "Grant credits",
            "opts": self.model._meta,
            "form": form,
            "businesses": queryset,
            "selected_ids": [str(pk) for pk in queryset.values_list("pk", flat=True)],
            "action_name": "grant_credits",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "select_across": request.POST.get("select_across", "0"),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/ai_features/grant_credits.html", context)

    def _grant(self, request, queryset, *, credits, package):
        businesses = list(queryset.order_by("pk"))
        try:
            with transaction.atomic():  # all of the selection or none of it
                for business in businesses:
                    credits_grant(
                        business=business, credits=credits, package=package, user=request.user
                    )
        except DomainError as exc:
            self.message_user(
                request,
                f"Nothing was granted: {business.name} (#{business.pk}) was refused: {exc.detail}",
                messages.ERROR,
            )
            return None
        names = ", ".join(b.name for b in businesses)
        self.message_user(
            request,
            f"Granted {credits} credits ({package}) to {len(businesses)} "
            f"business{'es' if len(businesses) != 1 else ''}: {names}.",
            messages.SUCCESS,
        )
        return None  # back to the changelist
