import type { ImageSize } from '../../graphql/operations.ts';
import { ChoiceGroup } from '../../ui/choice-group.tsx';
import { aspectRatio } from '../../ui/labels.ts';

/** A frame of the size's shape, so the choice is seen rather than read. */
export function AspectFrame({ imageSize }: { imageSize: string }) {
  const { width, height } = aspectRatio(imageSize);
  return (
    <span
      className="aspect-frame"
      aria-hidden="true"
      style={{
        aspectRatio: `${width} / ${height}`,
        [width >= height ? 'width' : 'height']: '100%',
      }}
    />
  );
}

export function SizePicker({
  sizes,
  value,
  onChange,
  error,
}: {
  sizes: readonly ImageSize[];
  value: ImageSize;
  onChange(size: ImageSize): void;
  error?: string | undefined;
}) {
  return (
    <ChoiceGroup
      legend="Size"
      name="imageSize"
      variant="tiles"
      value={value}
      onChange={onChange}
      error={error}
      choices={sizes.map((size) => {
        const { name, ratio } = aspectRatio(size);
        return {
          value: size,
          label: (
            <>
              <span className="aspect-box">
                <AspectFrame imageSize={size} />
              </span>
              {ratio}
            </>
          ),
          detail: <span className="visually-hidden">{name}</span>,
        };
      })}
    />
  );
}
