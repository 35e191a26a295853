/* Mercato dashboard: the few behaviours HTML and htmx do not cover.
 * - keep the sign-in session alive (refresh the access token ahead of its expiry,
 *   one tab at a time, and resume a lapsed session from the login page);
 * - theme toggle, navigation toggle on small screens, copy buttons, busy states.
 * No inline script anywhere: the Content-Security-Policy allows only files from /app/static.
 */
(function () {
  "use strict";

  var REFRESH_AHEAD_MS = 60 * 1000;
  var root = document.documentElement;
  root.classList.add("js");

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  /* ---- session upkeep ---------------------------------------------------------- */

  var expiresAt = null;
  var pending = null;
  var timer = null;

  async function expiresInFromServer() {
    var answer = await fetch("/app/session", {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    return answer.ok ? (await answer.json()).expires_in : 0;
  }

  async function rotateTokens() {
    // Another tab may have refreshed while this one waited for the lock.
    var left = await expiresInFromServer();
    if (left * 1000 > 2 * REFRESH_AHEAD_MS) {
      return left;
    }
    // The refresh cookie (path /api/v1/auth) travels by itself; the token rotates.
    var refreshed = await fetch("/api/v1/auth/refresh", {
      method: "POST",
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    if (!refreshed.ok) {
      throw new Error("the session cannot be refreshed");
    }
    var tokens = await refreshed.json();
    var stored = await fetch("/app/session/access", {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRF-Token": csrfToken(),
      },
      body: JSON.stringify({ access_token: tokens.access_token }),
    });
    if (!stored.ok) {
      throw new Error("the new access token was refused");
    }
    return (await stored.json()).expires_in;
  }

  function refreshSession() {
    if (!pending) {
      // A refresh token is valid once: tabs take turns so none reuses a rotated one.
      var run = navigator.locks
        ? navigator.locks.request("mercato-session-refresh", rotateTokens)
        : rotateTokens();
      pending = run
        .then(function (seconds) {
          expiresAt = Date.now() + seconds * 1000;
          schedule();
          return seconds;
        })
        .finally(function () {
          pending = null;
        });
    }
    return pending;
  }

  function schedule() {
    clearTimeout(timer);
    if (expiresAt === null) {
      return;
    }
    var wait = Math.max(0, expiresAt - Date.now() - REFRESH_AHEAD_MS);
    timer = setTimeout(function () {
      refreshSession().catch(function () {});
    }, wait);
  }

  function nearlyExpired() {
    return expiresAt !== null && expiresAt - Date.now() < REFRESH_AHEAD_MS;
  }

  var seconds = document.body.dataset.sessionSeconds;
  if (seconds !== undefined) {
    expiresAt = Date.now() + Number(seconds) * 1000;
    schedule();
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && nearlyExpired()) {
      refreshSession().catch(function () {});
    }
  });

  // Hold an htmx request while the access token is about to lapse, then send it.
  document.addEventListener("htmx:confirm", function (event) {
    if (!nearlyExpired()) {
      return;
    }
    event.preventDefault();
    refreshSession()
      .catch(function () {})
      .then(function () {
        event.detail.issueRequest(false);
      });
  });

  var resume = document.querySelector("[data-resume-session]");
  if (resume) {
    refreshSession()
      .then(function () {
        window.location.replace(resume.dataset.next || "/app");
      })
      .catch(function () {
        resume.textContent = "Your session has ended. Log in again.";
        var email = document.getElementById("f-email");
        if (email) {
          email.focus();
        }
      });
  }

  /* ---- small interactions ------------------------------------------------------ */

  function currentTheme() {
    if (root.dataset.theme) {
      return root.dataset.theme;
    }
    return window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }

  function showThemeState() {
    var dark = currentTheme() === "dark";
    document.querySelectorAll("[data-theme-toggle]").forEach(function (button) {
      button.setAttribute("aria-pressed", dark ? "true" : "false");
    });
  }

  function toggleTheme() {
    var next = currentTheme() === "dark" ? "light" : "dark";
    root.dataset.theme = next;
    document.cookie = "mercato_theme=" + next + "; path=/app; max-age=31536000; samesite=lax";
    showThemeState();
  }

  function copyValue(button) {
    var source = document.querySelector(button.dataset.copy);
    var card = button.closest(".card") || document;
    var status = card.querySelector("[data-copy-status]");
    function report(text) {
      if (status) {
        status.textContent = text;
      }
    }
    if (!source) {
      return;
    }
    source.focus();
    source.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(source.value).then(
        function () {
          report("Copied to the clipboard.");
        },
        function () {
          report("Press Ctrl+C (⌘C) to copy the selected key.");
        }
      );
    } else {
      report(document.execCommand("copy") ? "Copied to the clipboard." : "Press Ctrl+C (⌘C) to copy the selected key.");
    }
  }

  function toggleNavigation(button) {
    var nav = document.getElementById(button.getAttribute("aria-controls"));
    var open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", open ? "true" : "false");
    if (nav) {
      nav.toggleAttribute("data-open", open);
      if (open) {
        var first = nav.querySelector("a");
        if (first) {
          first.focus();
        }
      }
    }
  }

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) {
      return;
    }
    var theme = target.closest("[data-theme-toggle]");
    if (theme) {
      toggleTheme();
      return;
    }
    var copy = target.closest("[data-copy]");
    if (copy) {
      copyValue(copy);
      return;
    }
    var nav = target.closest("[data-nav-toggle]");
    if (nav) {
      toggleNavigation(nav);
    }
  });

  // Escape closes an open dropdown (tenant switcher, account menu) and returns focus.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") {
      return;
    }
    document.querySelectorAll("details.dropdown[open]").forEach(function (menu) {
      menu.removeAttribute("open");
      var summary = menu.querySelector("summary");
      if (summary) {
        summary.focus();
      }
    });
  });

  document.addEventListener("focusin", function (event) {
    if (event.target instanceof HTMLInputElement && event.target.matches("[data-select-on-focus]")) {
      event.target.select();
    }
  });

  // Loading states: the region being replaced is marked busy for assistive technology.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var target = event.detail.target;
    if (target) {
      target.setAttribute("aria-busy", "true");
    }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var target = event.detail.target;
    if (target) {
      target.removeAttribute("aria-busy");
    }
  });

  showThemeState();
})();
