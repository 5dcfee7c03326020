"""Admin for support staff: businesses and their members. (Their AI credits, and the action
that grants them, are added by `ai_features.admin`: accounts knows nothing of credits.)"""

from django.contrib import admin
from rest_framework.authtoken.models import TokenProxy

from accounts.models import Business, BusinessMembership


class BusinessMembershipInline(admin.TabularInline):
    model = BusinessMembership
    extra = 0
    raw_id_fields = ("user",)
    readonly_fields = ("created_at",)


@admin.register(Business)
class BusinessAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "owner", "email", "created_at")
    list_select_related = ("owner",)
    search_fields = ("name", "owner__username", "email")
    list_filter = ("created_at",)
    raw_id_fields = ("owner",)
    readonly_fields = ("created_at",)
    inlines = (BusinessMembershipInline,)


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
