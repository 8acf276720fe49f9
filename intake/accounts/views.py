"""Login, registration, passwords, language, and the admin's user pages."""

from __future__ import annotations

import segno
from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from intake.accounts import services, two_factor
from intake.accounts.forms import (
    ChangePasswordForm,
    CodeForm,
    ForgotPasswordForm,
    LanguageForm,
    LoginForm,
    RegistrationForm,
    ResetPasswordForm,
    StaffCreateForm,
    UserEditForm,
)
from intake.accounts.models import User
from intake.accounts.roles import HOME_ENDPOINT, STAFF_ROLES, Role
from intake.core.access import role_required
from intake.core.errors import DomainError
from intake.core.web import check_too, safe_next, show_domain_error
from intake.errors import error_page
from intake.extensions import db, limiter, login_manager

bp = Blueprint("accounts", __name__)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    ident, _sep, nonce = user_id.partition(":")
    if not ident.isdigit():
        return None
    user = db.session.get(User, int(ident))
    if user is None or not user.is_active or user.session_nonce != nonce:
        return None
    return user


login_manager.login_view = "accounts.login"
login_manager.login_message = None


def home_url(user: User) -> str:
    return url_for(HOME_ENDPOINT[user.role])


@bp.get("/")
def index():
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    return redirect(url_for("accounts.login"))


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is None:
            db.session.commit()  # keep the failure count and its audit row
            form.password.errors = [_login_failed_message()]
        elif user.role == Role.PATIENT and user.email_verified_at is None:
            # The password was right: only the owner learns the address is unconfirmed.
            services.send_registration_link(user)
            db.session.commit()
            flash(
                _(
                    "Please confirm your e-mail address first: we have sent you a new link. "
                    "It works for %(hours)s hours.",
                    hours=services.REGISTRATION_LINK_HOURS,
                ),
                "warning",
            )
        else:
            next_url = safe_next(request.args.get("next"))
            if user.has_two_factor:
                # The password was right; the session is opened only after the code.
                session["pending_login"] = user.get_id()
                session["pending_next"] = next_url
                return redirect(url_for("accounts.login_code"))
            response = _finish_login(user, next_url)
            if response is not None:
                return response
            form.password.errors = [_login_failed_message()]
    return render_template("accounts/login.html", form=form)


def _login_failed_message() -> str:
    # The same words whether the account is unknown, the password wrong or
    # the account locked: nothing tells an attacker which.
    return _("The e-mail or password is not correct.")


def _finish_login(user: User, next_url: str | None):
    """Open the session, or None when the account was locked meanwhile."""
    if not services.open_login(user):
        db.session.rollback()
        return None
    db.session.commit()
    login_user(user)
    session.pop("lang", None)
    return redirect(next_url or home_url(user))


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login_code():
    """Second step of a staff login: the code from the authenticator app."""
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    pending = session.get("pending_login")
    user = load_user(pending) if pending else None
    if user is None or not user.has_two_factor:
        session.pop("pending_login", None)
        return redirect(url_for("accounts.login"))
    form = CodeForm()
    if form.validate_on_submit():
        if services.check_login_code(user, form.code.data):
            response = _finish_login(user, session.get("pending_next"))
            if response is not None:
                session.pop("pending_login", None)
                session.pop("pending_next", None)
                return response
        db.session.commit()  # keep the failure count and its audit row
        form.code.errors = [_("This code is not correct. Enter the newest code from the app.")]
    return render_template("accounts/login_code.html", form=form)


@bp.route("/account/two-factor", methods=["GET", "POST"])
@role_required(*STAFF_ROLES)
def two_factor_setup():
    """Connect an authenticator app: scan the QR code, type the code it shows."""
    if current_user.has_two_factor:
        return render_template("accounts/two_factor_done.html")
    secret = session.get("totp_setup_secret") or two_factor.new_secret()
    session["totp_setup_secret"] = secret
    form = CodeForm()
    if form.validate_on_submit():
        try:
            services.enable_two_factor(current_user, secret=secret, code=form.code.data)
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            db.session.commit()
            session.pop("totp_setup_secret", None)
            flash(
                _("Two-step login is on. From now on, log in with a code from the app."), "success"
            )
            return redirect(home_url(current_user))
    uri = two_factor.provisioning_uri(
        secret, account=current_user.email, issuer=current_app.config["CLINIC_NAME"]
    )
    qr = segno.make(uri, error="m").svg_data_uri(scale=5, border=2)
    return render_template(
        "accounts/two_factor_setup.html", form=form, qr=qr, secret=two_factor.grouped(secret)
    )


@bp.post("/logout")
@login_required
def logout():
    user = current_user._get_current_object()
    locale = user.locale
    services.log_out(user)
    db.session.commit()
    logout_user()
    session["lang"] = locale
    flash(_("You have logged out."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    form = RegistrationForm()
    if request.method == "GET":
        form.locale.data = (
            session.get("lang")
            or request.accept_languages.best_match(["zh_Hans", "ja", "en"])
            or "zh_Hans"
        )
    if form.validate_on_submit():
        try:
            services.register_patient(
                email=form.email.data,
                password=form.password.data,
                family_name=form.family_name.data,
                given_name=form.given_name.data,
                family_name_latin=form.family_name_latin.data,
                given_name_latin=form.given_name_latin.data,
                sex=form.sex.data or None,
                nationality=form.nationality.data or None,
                date_of_birth=form.date_of_birth.data,
                phone=form.phone.data,
                locale=form.locale.data,
            )
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
        else:
            db.session.commit()
            session["lang"] = form.locale.data
            return render_template("accounts/register_sent.html", email=form.email.data)
    return render_template("accounts/register.html", form=form)


@bp.get("/register/confirm/<token>")
def confirm_registration(token: str):
    user = services.confirm_registration(token[:500])
    if user is None:
        flash(_("This link has expired or is not valid. Log in to receive a new one."), "warning")
        return redirect(url_for("accounts.login"))
    db.session.commit()
    if current_user.is_authenticated and current_user.id != user.id:
        logout_user()
    if not current_user.is_authenticated:
        login_user(user)
        session.pop("lang", None)
        services.record_login(user)
        db.session.commit()
    flash(_("Thank you: your e-mail address is confirmed. Welcome!"), "success")
    return redirect(home_url(user))


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        db.session.commit()
        flash(
            _("If an account exists for this address, we have sent a link to reset the password."),
            "info",
        )
        return redirect(url_for("accounts.login"))
    return render_template("accounts/forgot_password.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    row = services.valid_reset_token(token)
    if row is None:
        return error_page(
            410, _("This reset link has expired or was already used. Ask for a new one.")
        )
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            services.reset_password(token, form.password.data)
        except DomainError as exc:
            if exc.field is None:  # the token went stale while the form was open
                db.session.rollback()
                return error_page(410, exc.message)
            show_domain_error(form, exc)
        else:
            db.session.commit()
            flash(_("Your password was changed. Please log in."), "success")
            return redirect(url_for("accounts.login"))
    elif form.is_submitted():
        user = row.user
        check_too(
            form,
            lambda: services.check_new_password(
                form.password.data or "", email=user.email, name=user.full_name
            ),
        )
    return render_template("accounts/reset_password.html", form=form)


@bp.route("/password/change", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(
                current_user, current=form.current_password.data, new=form.password.data
            )
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            db.session.commit()
            login_user(current_user._get_current_object())  # the nonce changed with the password
            flash(_("Your password was changed."), "success")
            return redirect(home_url(current_user))
    elif form.is_submitted():
        check_too(
            form,
            lambda: services.check_password_change(
                current_user, current=form.current_password.data, new=form.password.data
            ),
        )
    return render_template("accounts/change_password.html", form=form)


@bp.post("/language")
def set_language():
    form = LanguageForm()
    if form.validate_on_submit():
        session["lang"] = form.locale.data
        if current_user.is_authenticated:
            services.set_locale(current_user, form.locale.data)
            db.session.commit()
    return redirect(safe_next(request.form.get("next")) or url_for("accounts.index"))


@bp.get("/admin/users")
@role_required(Role.ADMIN)
def user_list():
    role = request.args.get("role")
    query = select(User).order_by(User.role, User.full_name)
    if role in {r.value for r in Role}:
        query = query.where(User.role == Role(role))
    page = db.paginate(query, per_page=50, error_out=False)
    return render_template("accounts/user_list.html", page=page, roles=list(Role), role=role)


@bp.route("/admin/users/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def user_create():
    form = StaffCreateForm()
    if form.validate_on_submit():
        try:
            user = services.create_staff(
                actor=current_user,
                email=form.email.data,
                full_name=form.full_name.data,
                role=Role(form.role.data),
                password=form.password.data,
                locale=form.locale.data,
            )
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            db.session.commit()
            flash(_("Account created for %(name)s.", name=user.full_name), "success")
            return redirect(url_for("accounts.user_list"))
    return render_template("accounts/user_create.html", form=form)


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def user_edit(user_id: int):
    user = db.get_or_404(User, user_id)
    form = UserEditForm(obj=user)
    if user.role == Role.PATIENT:
        del form.role
    elif request.method == "GET":
        form.role.data = user.role.value
    if form.validate_on_submit():
        fields = {
            "full_name": form.full_name.data.strip(),
            "phone": (form.phone.data or "").strip() or None,
            "is_active": form.is_active.data,
        }
        if "role" in form:
            fields["role"] = Role(form.role.data)
        try:
            services.update_user(user, actor=current_user, **fields)
            if form.reset_two_factor.data:
                services.reset_two_factor(user, actor=current_user)
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("accounts.user_list"))
    return render_template("accounts/user_edit.html", form=form, user=user)
