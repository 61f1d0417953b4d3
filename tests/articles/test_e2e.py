"""In Chromium against a live daphne: write an article with its live preview and autosave, publish it,
read it; and the hostile corpus rendered as an article, where no script may run."""

import json
import re
from pathlib import Path

import pytest

from articles import render
from articles.models import Article
from microblog.models import Post
from tests.live import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CORPUS = json.loads((Path(__file__).parent / "xss_corpus.json").read_text())

# Every way a payload could make itself heard: dialogs, document.write, a flag it could set.
TRIPWIRES = """
window.__ran = [];
for (const name of ["alert", "confirm", "prompt", "print"]) {
  window[name] = (...args) => { window.__ran.push(name + ":" + args.join(",")); };
}
document.write = (...args) => { window.__ran.push("write:" + args.join(",")); };
document.writeln = document.write;
"""

# What the rendered article holds, checked in the page itself (after the browser's own parsing).
DOM_AUDIT = """
([tags, attributes, ownImage]) => {
  const found = [];
  for (const element of document.querySelectorAll(".article-body *")) {
    const tag = element.tagName.toLowerCase();
    if (!tags.includes(tag)) found.push("tag " + tag);
    const allowed = (attributes[tag] || []).concat(tag === "a" ? ["rel"] : []);
    for (const attribute of element.attributes) {
      if (!allowed.includes(attribute.name)) found.push(tag + " " + attribute.name);
    }
    for (const name of ["href", "src"]) {
      const value = (element.getAttribute(name) || "").replace(/[\\u0000-\\u0020\\u200b]/g, "");
      if (/^(javascript|data|vbscript):/i.test(value)) found.push(tag + " " + name + "=" + value);
    }
    if (tag === "img" && !new RegExp("^" + ownImage + "$").test(element.getAttribute("src") || "")) {
      found.push("foreign img " + element.getAttribute("src"));
    }
  }
  return found;
}
"""


def audit(page) -> list[str]:
    attributes = {tag: sorted(names) for tag, names in render.ALLOWED_ATTRIBUTES.items()}
    return page.evaluate(DOM_AUDIT, [sorted(render.ALLOWED_TAGS), attributes, render.OWN_IMAGE.pattern])


def test_write_preview_autosave_publish_and_read(new_page, make_user):
    writer = make_user(username="writer")
    page = log_in(new_page(), writer)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/write/")
    page.get_by_label("Title").fill("Notes on tea")
    page.get_by_label("Text (Markdown)").fill("## Leaves\n\nGreen **and** black.\n\n> Steep, then wait.")
    # The preview is the server's rendering, updated as the writer types.
    page.locator("#preview h2").filter(has_text="Leaves").wait_for()
    page.locator("#preview strong").filter(has_text="and").wait_for()
    page.locator("#save-status").filter(has_text="Draft · saved").wait_for()
    page.wait_for_url(re.compile(r"/write/\d+/$"))
    article_id = int(page.url.rstrip("/").rsplit("/", 1)[1])

    body = page.get_by_label("Text (Markdown)")
    body.press("End")
    body.type("\n\nA second cup.")
    page.locator("#preview p").filter(has_text="A second cup.").wait_for()
    # Typing marks the draft unsaved at once, so "saved" below is the autosave of this edit.
    page.wait_for_function("() => document.querySelector('#save-status').textContent === 'Draft · saved'")
    page.reload()
    # What autosave stored comes back on reload, preview included.
    assert page.get_by_label("Title").input_value() == "Notes on tea"
    assert page.get_by_label("Text (Markdown)").input_value().endswith("A second cup.")
    page.locator("#preview p").filter(has_text="A second cup.").wait_for()
    assert Article.objects.get(pk=article_id).status == "draft"

    page.get_by_role("button", name="Publish").click()
    page.wait_for_url(f"**/a/{article_id}/")
    assert page.get_by_role("heading", name="Notes on tea").is_visible()
    page.locator(".article-body h2").filter(has_text="Leaves").wait_for()
    page.locator(".article-body blockquote").filter(has_text="Steep, then wait.").wait_for()
    assert page.locator(".article-byline").filter(has_text="@writer").is_visible()
    assert page.get_by_text("1 min read").is_visible()
    # Published with "Also post it to my feed": a post carries it, shown as a card on the feed.
    assert Post.objects.get(article_id=article_id).author == writer
    page.get_by_role("link", name="Feed").click()
    card = page.locator("a.article-card").filter(has_text="Notes on tea")
    card.wait_for()
    assert "Leaves Green and black." in card.text_content()
    assert errors == []


def test_a_reader_counts_once_and_follows_the_author(new_page, make_user):
    writer, reader = make_user(username="writer"), make_user(username="reader")
    from articles.services import article_create, article_publish

    article = article_publish(author=writer, article=article_create(author=writer, title="Once", body="Read me."))
    page = log_in(new_page(), reader)
    for _ in range(2):
        page.goto(f"/a/{article.pk}/")
    assert page.locator(".read-count").text_content() == "1"
    page.get_by_role("button", name="Follow").click()
    page.wait_for_url("**/u/writer/")
    page.goto(f"/a/{article.pk}/")
    assert page.get_by_role("button", name="Following").is_visible()


def test_the_hostile_corpus_runs_no_script_on_the_reading_page_or_in_the_preview(new_page, make_user):
    from articles.services import article_create, article_publish

    author = make_user(username="author")
    body = "\n\n".join(CORPUS).replace("\x00", "")  # NUL cannot be stored (refused as invalid text)
    article = article_publish(author=author, article=article_create(author=author, title="Hostile", body=body))
    page = new_page()
    page.add_init_script(TRIPWIRES)
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"/a/{article.pk}/")
    page.locator(".article-body").wait_for()
    # Give anything with a handler the events it waits for: hover and focus every element, let timers run.
    for element in page.locator(".article-body *").all()[:400]:
        element.dispatch_event("mouseover")
        element.dispatch_event("focus")
    page.wait_for_timeout(500)
    assert page.evaluate("window.__ran") == []
    assert dialogs == []
    assert audit(page) == []
    assert page.locator(".article-body").text_content().count("alert") > 50  # the payloads are there, as text

    # The editor's live preview puts the same server rendering into the page with innerHTML.
    log_in(page, author)
    page.goto(f"/write/{article.pk}/")
    page.get_by_label("Text (Markdown)").press("End")
    page.get_by_label("Text (Markdown)").type(" x")
    page.locator("#preview").filter(has_text="x").wait_for()
    page.wait_for_timeout(500)
    assert page.evaluate("window.__ran") == []
    assert dialogs == []
    found = page.evaluate(
        DOM_AUDIT.replace(".article-body *", "#preview *"),
        [
            sorted(render.ALLOWED_TAGS),
            {tag: sorted(names) for tag, names in render.ALLOWED_ATTRIBUTES.items()},
            render.OWN_IMAGE.pattern,
        ],
    )
    assert found == []


def test_the_audit_sees_what_it_must(new_page, make_user):
    """The page audit would catch a sanitiser that let markup through: shown raw HTML, it objects."""
    page = new_page()
    page.set_content(
        '<div class="article-body"><img src="x" onerror="1"><a href="javascript:1">x</a><iframe></iframe></div>'
    )
    found = audit(page)
    assert "img onerror" in found and "foreign img x" in found and "tag iframe" in found
    assert "a href=javascript:1" in found
