"""Admin for support staff: businesses, their members, and granting a business free AI credits.

Credits are only ever granted through `credits_grant`, so each grant is a completed
`admin_grant` purchase with its ledger entry and the balance stays equal to the ledger.
"""

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db import transaction
from django.db.models import DecimalField, OuterRef, Subquery
from django.template.response import TemplateResponse
from rest_framework.authtoken.models import TokenProxy

from accounts.models import Business, BusinessMembership
from ai_features.models import BusinessAICredits
from ai_features.services.grants import credits_grant
from ai_features.services.money import CENT
from pos.errors import DomainError

# Who may grant: granting records an `admin_grant` purchase, so it takes the right to add one.
GRANT_PERMISSION = "ai_features.add_aicreditpurchase"


class GrantCreditsForm(forms.Form):
    credits = forms.DecimalField(
        min_value=Decimal("0.01"),
        max_value=Decimal("100000"),
        max_digits=8,
        decimal_places=2,
        help_text="Credits to give each selected business (more than 0, at most 100,000).",
    )
    package = forms.CharField(
        label="Note",
        max_length=30,
        initial="support",
        help_text="Recorded as the grant's package label (at most 30 characters).",
    )


class BusinessMembershipInline(admin.TabularInline):
    model = BusinessMembership
    extra = 0
    raw_id_fields = ("user",)
    readonly_fields = ("created_at",)


@admin.register(Business)
class BusinessAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "owner", "email", "created_at", "current_balance")
    list_select_related = ("owner",)
    search_fields = ("name", "owner__username", "email")
    list_filter = ("created_at",)
    raw_id_fields = ("owner",)
    readonly_fields = ("created_at",)
    inlines = (BusinessMembershipInline,)
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
        return (balance or Decimal("0")).quantize(CENT)  # SQLite drops a subquery's scale

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
        return TemplateResponse(request, "admin/accounts/grant_credits.html", context)

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


@admin.register(BusinessMembership)
class BusinessMembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "business", "role", "created_at")
    list_select_related = ("user", "business")
    list_filter = ("role",)
    search_fields = ("user__username", "user__email", "business__name")
    raw_id_fields = ("user", "business")
    readonly_fields = ("created_at",)


# DRF registers API tokens in the admin by default, showing each key in clear: anyone with admin
# access could copy a shop's token. Support staff never need them there.
if admin.site.is_registered(TokenProxy):
    admin.site.unregister(TokenProxy)
