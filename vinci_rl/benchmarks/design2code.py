"""Design2Code (Si et al., 2024): webpage screenshot -> HTML/CSS, scored by its visual score.

    vinci-rl eval --benchmark design2code DATA_DIR --clip PATH_TO_clip-vit-base-patch32

Layout (Design2Code's testset_final/ or Design2Code-HARD): `<N>.html` + `<N>.png` per item, and the placeholder
image `rick.jpg`. Prompt: Design2Code's direct prompting text; the answer is cleaned as its cleanup_response does.

Per item, as metrics/visual_score.py does: the prediction is pre-processed (repetitive tail cut, wrapped in
<html><body><p> when it has no <html> tag); prediction and reference are rendered by the project's Chromium
(1280 x 720 viewport, full page; a failed render is a white 1280 x 960 picture); text blocks are found without OCR
(design2code_blocks.py); blocks with the same box are merged; neighbouring blocks are merged while that improves the
text matching (find_possible_merge), then matched by the Jonker-Volgenant assignment on -text similarity with a
context bonus, and pairs under 0.5 similarity dropped. Scores: Block-Match (matched block area / all block area),
Text (difflib ratio), Position (1 - max centre shift), Color (CIEDE2000 similarity of the text colours), CLIP
(ViT-B/32 cosine of the two screenshots with the text boxes inpainted, squeezed to squares); Score = 0.2 x their
sum. No block on a side, or no match: the four block scores are 0 and Score = 0.2 x CLIP.
"""

from __future__ import annotations

import base64
import difflib
import re
from collections import Counter
from copy import deepcopy
from pathlib import Path

import numpy as np

from vinci_rl.benchmarks.base import BenchmarkDataError, BenchmarkItem, MetricContext, MissingWeights, register
from vinci_rl.benchmarks.ciede2000 import color_similarity
from vinci_rl.benchmarks.design2code_blocks import blocks_from_screens, recolour, shifted_pixels

DIRECT_PROMPT = (
    "You are an expert web developer who specializes in HTML and CSS.\n"
    "A user will provide you with a screenshot of a webpage.\n"
    "You need to return a single html file that uses HTML and CSS to reproduce the given website.\n"
    "Include all CSS code in the HTML file itself.\n"
    "If it involves any images, use \"rick.jpg\" as the placeholder.\n"
    "Some images on the webpage are replaced with a blue rectangle as the placeholder, use \"rick.jpg\" for those as "
    "well.\n"
    "Do not hallucinate any dependencies to external files. You do not need to include JavaScript scripts for dynamic "
    "interactions.\n"
    "Pay attention to things like size, text, position, and color of all the elements, as well as the overall layout.\n"
    "Respond with the content of the HTML+CSS file:\n"
)
VIEWPORT = (1280, 720)
FAILED_SCREEN = (960, 1280)  # Design2Code's stand-in for a page that could not be screenshot (white)
CONSECUTIVE_BONUS, WINDOW = 0.1, 1
MERGE_GAIN = 0.05
MIN_TEXT_SIMILARITY = 0.5
COLUMNS = ("Block-Match", "Text", "Position", "Color", "CLIP")


# ------------------------------------------------------------------ responses


def cleanup_response(response: str) -> str:
    """Design2Code's cleanup of a model answer: fences and an 'html' tag stripped, text before <!DOCTYPE and after
    </html> dropped."""
    response = response.strip()
    if response[:3] == "```":
        response = response[3:].strip()
    if response[-3:] == "```":
        response = response[:-3].strip()
    if response[:4] == "html":
        response = response[4:].strip()
    if "<!DOCTYPE" in response:
        response = "<!DOCTYPE" + response.split("<!DOCTYPE", 1)[1]
    if "</html>" in response:
        response = response.split("</html>")[0] + "</html>"
    return response


def cut_repetition(content: str, chunk_size: int = 100, repeats: int = 5, similarity: float = 0.8) -> str:
    """Design2Code's check_repetitive_content: the tag-free text in 100-character chunks; once a chunk is >= 0.8
    similar to an earlier one for the 5th time, the page is cut where that run of chunks starts."""
    clean = re.sub("<.*?>", "", content)
    position = _clean_positions(clean, content)
    seen: dict[str, list[int]] = {}
    start = len(clean)
    for i in range(0, len(clean), chunk_size):
        chunk = clean[i:i + chunk_size]
        for earlier, indexes in seen.items():
            if difflib.SequenceMatcher(None, chunk, earlier).ratio() >= similarity:
                indexes.append(i // chunk_size)
                if len(indexes) >= repeats:
                    clean_start = min(start, indexes[0] * chunk_size)
                    original = position[clean_start] if clean_start < len(position) else len(content)
                    start = min(start, original)
                break
        else:
            seen[chunk] = [i // chunk_size]
    return content[:start] if start != len(clean) else content


def _clean_positions(clean: str, original: str) -> list[int]:
    out, j = [], 0
    for ch in clean:
        while original[j] != ch:
            j += 1
        out.append(j)
        j += 1
    return out


def pre_process(html: str) -> str:
    html = cut_repetition(html)
    if not re.search(r"<html[^>]*>", html, re.IGNORECASE):
        html = f"<html><body><p>{html}</p></body></html>"
    return html


# ------------------------------------------------------------------ matching (visual_score.py)


def text_similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b).ratio()


def merge_same_box(blocks: list[dict]) -> list[dict]:
    """Blocks with the same box become one: texts joined by a space, colours averaged pairwise in order."""
    merged: dict[tuple, dict] = {}
    for block in blocks:
        box = tuple(block["bbox"])
        if box in merged:
            old = merged[box]
            old["text"] += " " + block["text"]
            old["color"] = [(a + b) / 2 for a, b in zip(old["color"], block["color"])]
        else:
            merged[box] = dict(block)
    return list(merged.values())


def merge_two(a: dict, b: dict) -> dict:
    x0, y0 = min(a["bbox"][0], b["bbox"][0]), min(a["bbox"][1], b["bbox"][1])
    x1 = max(a["bbox"][0] + a["bbox"][2], b["bbox"][0] + b["bbox"][2])
    y1 = max(a["bbox"][1] + a["bbox"][3], b["bbox"][1] + b["bbox"][3])
    color = tuple((c1 + c2) // 2 for c1, c2 in zip(a["color"], b["color"]))
    return {"text": a["text"] + " " + b["text"], "bbox": (x0, y0, x1 - x0, y1 - y0), "color": color}


def context_cost(cost: np.ndarray, bonus: float, window: int) -> np.ndarray:
    """Each good pair (cost < -0.5) gets bonus x the sum of the 2*window lowest costs around it (itself excluded)."""
    if window <= 0:
        return cost
    n, m = cost.shape
    out = cost.copy()
    for i in range(n):
        for j in range(m):
            if out[i, j] >= -0.5:
                continue
            near = np.sort(cost[max(0, i - window):i + window + 1, max(0, j - window):j + window + 1].ravel())[::-1]
            near = np.delete(near, np.where(near == cost[i, j])[0][0])
            out[i, j] += bonus * np.sum(near[-window * 2:])
    return out


def best_matching(a: list[dict], b: list[dict], bonus: float, window: int) -> tuple[list, list[float]]:
    from scipy.optimize import linear_sum_assignment

    cost = np.array([[-text_similarity(x["text"], y["text"]) for y in b] for x in a]).reshape(len(a), len(b))
    cost = context_cost(cost, bonus, window)
    rows, cols = linear_sum_assignment(cost)
    return list(zip(rows.tolist(), cols.tolist())), cost[rows, cols].tolist()


def mean_gain(current: list[float], updated: list[float]) -> float:
    """Design2Code's difference_of_means over the costs the two matchings do not share."""
    left, right = Counter(current), Counter(updated)
    common = left & right
    left, right = list((left - common).elements()), list((right - common).elements())
    m1 = sum(left) / len(left) if left else 0.0
    m2 = sum(right) / len(right) if right else 0.0
    if m1 - m2 > 0:
        return m1 - m2 if left and right and min(left) > min(right) else 0.0
    return m1 - m2


def merge_listed(blocks: list[dict], merges: list[list]) -> list[dict]:
    """Apply merges (i, i+1) best first; a merge touching a block already merged this round is skipped."""
    dropped = []
    while merges:
        i, j = merges[0][0], merges[0][1]
        blocks[i] = merge_two(blocks[i], blocks[j])
        dropped.append(j)
        merges = [m for m in merges[1:] if i not in m[:2] and j not in m[:2]]
    for index in sorted(dropped, reverse=True):
        if index < len(blocks):
            blocks.pop(index)
    return blocks


def _merge_side(blocks: list[dict], other: list[dict], first: bool, current: list[float]) -> tuple[list, bool]:
    merges = []
    for i in range(len(blocks) - 1):
        trial = deepcopy(blocks)
        trial[i] = merge_two(trial[i], trial[i + 1])
        trial.pop(i + 1)
        _, cost = best_matching(trial, other, 0.0, 1) if first else best_matching(other, trial, 0.0, 1)
        gain = mean_gain(current, cost)
        if gain > MERGE_GAIN:
            merges.append([i, i + 1, gain])
    merges.sort(key=lambda m: m[2], reverse=True)
    return (merge_listed(blocks, merges), True) if merges else (blocks, False)


def merge_and_match(a: list[dict], b: list[dict]) -> tuple[list[dict], list[dict], list]:
    """find_possible_merge: merge neighbours on either side while it helps, then the final matching."""
    while True:
        _, current = best_matching(a, b, 0.0, 1)
        changed_a = changed_b = False
        if len(a) >= 2:
            a, changed_a = _merge_side(a, b, True, current)
            if changed_a:
                _, current = best_matching(a, b, 0.0, 1)
        if len(b) >= 2:
            b, changed_b = _merge_side(b, a, False, current)
        if not changed_a and not changed_b:
            break
    matching, _ = best_matching(a, b, CONSECUTIVE_BONUS, WINDOW)
    return a, b, matching


def block_scores(pred: list[dict], ref: list[dict]) -> tuple[float, float, float, float] | None:
    """(block-match, text, position, colour) of two block lists; None when no pair survives the 0.5 text filter."""
    pred, ref, matching = merge_and_match(pred, ref)
    pairs = [(i, j, s) for i, j in matching if (s := text_similarity(pred[i]["text"], ref[j]["text"])) >= MIN_TEXT_SIMILARITY]
    if not pairs:
        return None
    area = lambda b: b["bbox"][2] * b["bbox"][3]  # noqa: E731
    matched_i, matched_j = {i for i, _, _ in pairs}, {j for _, j, _ in pairs}
    unmatched = sum(area(b) for k, b in enumerate(pred) if k not in matched_i)
    unmatched += sum(area(b) for k, b in enumerate(ref) if k not in matched_j)
    matched, texts, positions, colors = [], [], [], []
    for i, j, sim in pairs:
        p, r = pred[i]["bbox"], ref[j]["bbox"]
        matched.append(area(pred[i]) + area(ref[j]))
        texts.append(sim)
        positions.append(1 - max(abs(p[0] + p[2] / 2 - r[0] - r[2] / 2), abs(p[1] + p[3] / 2 - r[1] - r[3] / 2)))
        colors.append(color_similarity(pred[i]["color"], ref[j]["color"]))
    return (float(sum(matched) / (sum(matched) + unmatched)), float(np.mean(texts)), float(np.mean(positions)),
            float(np.mean(colors)))


# ------------------------------------------------------------------ screenshots, blocks, CLIP


def screenshot(ctx: MetricContext, html: str) -> np.ndarray:
    result = ctx.renderer().backend("html").render_full_page(html, VIEWPORT)
    if result.image is None:
        return np.full((*FAILED_SCREEN, 3), 255, dtype=np.uint8)
    return result.image


def page_blocks(ctx: MetricContext, html: str) -> tuple[np.ndarray, list[dict]]:
    """(the page's screenshot, its text blocks)."""
    plain = screenshot(ctx, html)
    try:
        coloured_html, texts = recolour(html, 0)
        shifted_html, _ = recolour(html, 50)
    except ValueError:
        return plain, []
    coloured, shifted_screen = screenshot(ctx, coloured_html), screenshot(ctx, shifted_html)
    shifted = shifted_pixels(coloured, shifted_screen)
    if shifted is None:
        return plain, []
    try:
        return plain, blocks_from_screens(plain, coloured, texts, shifted)
    except ValueError:
        return plain, []


def inpaint_and_square(image: np.ndarray, boxes: list) -> np.ndarray:
    """Text boxes inpainted (OpenCV Telea, radius 3), then the picture resized (Lanczos) to a square of its shorter
    side, as Design2Code feeds CLIP."""
    import cv2
    from PIL import Image

    if boxes:
        h, w = image.shape[:2]
        mask = np.zeros((h, w), dtype=np.uint8)
        for x, y, bw, bh in boxes:
            x0, y0 = int(x * w), int(y * h)
            mask[y0:y0 + int(bh * h), x0:x0 + int(bw * w)] = 255
        bgr = cv2.inpaint(cv2.cvtColor(image, cv2.COLOR_RGB2BGR), mask, 3, cv2.INPAINT_TELEA)
        image = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    side = min(image.shape[:2])
    return np.asarray(Image.fromarray(image).resize((side, side), Image.LANCZOS))


def clip_score(ctx: MetricContext, pred: np.ndarray, ref: np.ndarray, pred_blocks, ref_blocks) -> float:
    def compute() -> float:
        from vinci_rl.benchmarks.unisvg import ClipImages

        def build():
            try:
                return ClipImages(ctx)
            except MissingWeights as e:
                raise MissingWeights("--clip", "Design2Code CLIP score", "openai/clip-vit-base-patch32 on disk") from e

        clip = ctx.cached("design2code-clip", build)
        a = clip.embed(inpaint_and_square(pred, [b["bbox"] for b in pred_blocks]))
        b = clip.embed(inpaint_and_square(ref, [b["bbox"] for b in ref_blocks]))
        return float(a @ b / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-12))

    return ctx.optional("CLIP", compute)


def visual_scores(ctx: MetricContext, pred_html: str, ref_html: str) -> dict[str, float]:
    """The five scores and Score of a (pre-processed) prediction page against the reference page."""
    pred_img, pred_blocks = page_blocks(ctx, pred_html)
    ref_img, ref_blocks = ctx.cached(f"design2code-ref:{hash(ref_html)}", lambda: page_blocks(ctx, ref_html))
    ref_blocks = merge_same_box(deepcopy(ref_blocks))
    pred_blocks = merge_same_box(pred_blocks)
    clip = clip_score(ctx, pred_img, ref_img, pred_blocks, ref_blocks)
    found = block_scores(deepcopy(pred_blocks), deepcopy(ref_blocks)) if pred_blocks and ref_blocks else None
    parts = found or (0.0, 0.0, 0.0, 0.0)
    row = dict(zip(COLUMNS, (*parts, clip)))
    row["Score"] = 0.2 * sum(row.values())
    return row


# ------------------------------------------------------------------ the benchmark


class Design2Code:
    name = "design2code"
    language = "html"
    columns = (*COLUMNS, "Score")

    def load(self, data_dir: Path) -> list[BenchmarkItem]:
        data_dir = Path(data_dir)
        pages = sorted(data_dir.glob("*.html"), key=lambda p: (len(p.stem), p.stem))
        if not pages:
            raise BenchmarkDataError(f"{self.name}: no <N>.html / <N>.png pairs in {data_dir} (Design2Code's "
                                     "testset_final/)")
        rick = data_dir / "rick.jpg"
        placeholder = ("data:image/jpeg;base64," + base64.b64encode(rick.read_bytes()).decode()) if rick.is_file() else None
        items = []
        for page in pages:
            image = page.with_suffix(".png")
            if not image.is_file():
                raise BenchmarkDataError(f"{self.name}: {image} is missing (every <N>.html needs its <N>.png)")
            items.append(BenchmarkItem(page.stem, image, DIRECT_PROMPT, page.read_text(encoding="utf-8"),
                                       self.language, {"placeholder": placeholder}))
        return items

    def extract(self, response: str) -> str:
        return cleanup_response(response)

    def score(self, item: BenchmarkItem, prediction: str, ctx: MetricContext) -> dict[str, float]:
        placeholder = item.meta.get("placeholder")
        inline = (lambda html: html.replace("rick.jpg", placeholder)) if placeholder else (lambda html: html)
        return visual_scores(ctx, inline(pre_process(prediction)), inline(item.reference or ""))

    def aggregate(self, rows: list[dict[str, float]]) -> dict[str, float]:
        from vinci_rl.benchmarks.base import mean

        return {c: mean([float(r[c]) for r in rows]) for c in self.columns}

    def notes(self, rows: list[dict[str, float]]) -> list[str]:
        return ["Score = 0.2 x (Block-Match + Text + Position + Color + CLIP), Design2Code's visual score; CLIP is "
                "ViT-B/32 (--clip)."]


DESIGN2CODE = register(Design2Code())
