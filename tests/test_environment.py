"""The machine has what the suite needs: a missing Debian package fails here with the install hint
(issue 14, item 4) instead of tests being skipped."""

import shutil

from conftest import require_chromium


def test_debian_chromium_is_installed():
    require_chromium(shutil.which("chromium") or "/usr/bin/chromium")


def test_require_chromium_fails_with_the_install_hint(tmp_path):
    import pytest

    with pytest.raises(pytest.fail.Exception, match=r"scripts/install\.sh"):
        require_chromium(str(tmp_path / "no-chromium"))
