"""Draw the integration's brand icons (a shield with a house); run via scripts/run."""

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent.parent / "custom_components" / "g90_cloud" / "brand"


def icon(size: int) -> Image.Image:
    scale = size / 256
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)

    def points(coords: list[tuple[float, float]]) -> list[tuple[float, float]]:
        return [(x * scale, y * scale) for x, y in coords]

    shield = [(128, 12), (228, 48), (220, 150), (128, 244), (36, 150), (28, 48)]
    draw.polygon(points(shield), fill=(3, 169, 244, 255))
    house = [(128, 70), (186, 118), (172, 118), (172, 180), (84, 180), (84, 118), (70, 118)]
    draw.polygon(points(house), fill=(255, 255, 255, 255))
    draw.rectangle(points([(116, 140), (140, 180)]), fill=(3, 169, 244, 255))
    return image


OUT.mkdir(parents=True, exist_ok=True)
icon(256).save(OUT / "icon.png")
icon(512).save(OUT / "icon@2x.png")
