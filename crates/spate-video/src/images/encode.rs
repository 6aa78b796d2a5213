//! Decoded frames (packed RGB, 8 bits per channel) encoded as JPEG or PNG with the `image`
//! crate.

use image::ImageEncoder;
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;

/// The image format GetImages answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageFormat {
    /// JPEG at a quality of 1 (smallest) to 100 (best).
    Jpeg {
        quality: u8,
    },
    Png,
}

/// `rgb` (width × height × 3 bytes) as an image file.
pub fn encode(
    rgb: &[u8],
    width: u32,
    height: u32,
    format: ImageFormat,
) -> Result<Vec<u8>, image::ImageError> {
    // The encoders assert the length (a panic): checked here first.
    if u64::try_from(rgb.len()).ok() != Some(u64::from(width) * u64::from(height) * 3) {
        return Err(image::ImageError::Parameter(
            image::error::ParameterError::from_kind(
                image::error::ParameterErrorKind::DimensionMismatch,
            ),
        ));
    }
    let mut out = Vec::new();
    match format {
        ImageFormat::Jpeg { quality } => JpegEncoder::new_with_quality(&mut out, quality)
            .write_image(rgb, width, height, image::ExtendedColorType::Rgb8)?,
        ImageFormat::Png => PngEncoder::new(&mut out).write_image(
            rgb,
            width,
            height,
            image::ExtendedColorType::Rgb8,
        )?,
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_formats_decode_back_to_the_frame() {
        let (width, height) = (4u32, 2u32);
        let rgb: Vec<u8> = (0..width * height)
            .flat_map(|pixel| [200, u8::try_from(pixel * 20).expect("small"), 10])
            .collect();
        let png = encode(&rgb, width, height, ImageFormat::Png).expect("png");
        let decoded = image::load_from_memory_with_format(&png, image::ImageFormat::Png)
            .expect("png decodes")
            .to_rgb8();
        assert_eq!(decoded.as_raw(), &rgb, "PNG is lossless");
        let jpeg = encode(&rgb, width, height, ImageFormat::Jpeg { quality: 90 }).expect("jpeg");
        let decoded = image::load_from_memory_with_format(&jpeg, image::ImageFormat::Jpeg)
            .expect("jpeg decodes");
        assert_eq!((decoded.width(), decoded.height()), (width, height));
        assert!(encode(&rgb[1..], width, height, ImageFormat::Png).is_err());
    }
}
